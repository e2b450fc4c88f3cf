#pragma once
// A BMC's login (the ipmi and redfish sources): one line user:password in a
// file nobody else can read, refused with the fix otherwise.
#include <string>

namespace hearth {

struct BmcLogin {
    std::string user, password;
    std::string userpwd() const { return user + ":" + password; }
};

// source names the energy source in the messages ("ipmi", "redfish").
BmcLogin read_bmc_credentials(const std::string& path, const std::string& source);

}  // namespace hearth
