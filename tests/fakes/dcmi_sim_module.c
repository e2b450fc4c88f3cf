/* An ipmi_sim module (loadlib) that answers DCMI Get Power Reading (group
 * extension 0xDC, command 0x02), which OpenIPMI's simulator does not
 * implement: the watts come from a file the test writes, read at every
 * request, so real ipmitool over lanplus sees the power the test drives.
 * Options: the path of that file. A file holding "unsupported" answers
 * Invalid Command (C1h), as a BMC without DCMI power management does. */
#include <OpenIPMI/mcserv.h>
#include <OpenIPMI/msg.h>
#include <OpenIPMI/serv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char power_file[512];

static void put16(unsigned char* p, unsigned v) {
    p[0] = v & 0xff;
    p[1] = (v >> 8) & 0xff;
}
static void put32(unsigned char* p, unsigned long v) {
    p[0] = v & 0xff;
    p[1] = (v >> 8) & 0xff;
    p[2] = (v >> 16) & 0xff;
    p[3] = (v >> 24) & 0xff;
}

static void dcmi(lmc_data_t* mc, msg_t* msg, unsigned char* rdata, unsigned int* rdata_len,
                 void* cb_data) {
    char text[64] = "";
    unsigned watts;
    FILE* f;
    (void)cb_data;
    if (msg->cmd != 0x02) {
        handle_invalid_cmd(mc, rdata, rdata_len);
        return;
    }
    f = fopen(power_file, "r");
    if (f) {
        if (!fgets(text, sizeof text, f)) text[0] = 0;
        fclose(f);
    }
    if (strncmp(text, "unsupported", 11) == 0) {
        handle_invalid_cmd(mc, rdata, rdata_len);
        return;
    }
    watts = (unsigned)strtoul(text, NULL, 10);
    memset(rdata, 0, 19);
    rdata[0] = 0;                            /* completion code */
    rdata[1] = 0xdc;                         /* group extension */
    put16(rdata + 2, watts);                 /* current */
    put16(rdata + 4, watts ? watts - 1 : 0); /* minimum over the period */
    put16(rdata + 6, watts + 1);             /* maximum */
    put16(rdata + 8, watts);                 /* average */
    put32(rdata + 10, (unsigned long)time(NULL));
    put32(rdata + 14, 1000); /* sampling period, ms */
    rdata[18] = 0x40;        /* power measurement active */
    *rdata_len = 19;
}

int ipmi_sim_module_print_version(sys_data_t* sys, char* options) {
    (void)sys;
    (void)options;
    printf("hearth DCMI power reading module\n");
    return 0;
}

int ipmi_sim_module_init(sys_data_t* sys, char* options) {
    (void)sys;
    snprintf(power_file, sizeof power_file, "%s", options ? options : "");
    ipmi_emu_register_group_extension_handler(0xdc, dcmi, NULL);
    return 0;
}
