#include "protocol.hpp"

#include "wire.hpp"

namespace hearth {
namespace {

void put(WireWriter& w, const FileBlob& f) {
    w.str(f.path);
    w.u32(f.mode);
    w.str(f.data);
}

FileBlob get_blob(WireReader& r) {
    FileBlob f;
    f.path = r.str();
    f.mode = r.u32();
    f.data = r.str();
    return f;
}

void put(WireWriter& w, const std::vector<FileBlob>& files) {
    w.u32(static_cast<std::uint32_t>(files.size()));
    for (const auto& f : files) put(w, f);
}

std::vector<FileBlob> get_blobs(WireReader& r) {
    std::uint32_t n = r.u32();
    std::vector<FileBlob> v;
    for (std::uint32_t i = 0; i < n; ++i) v.push_back(get_blob(r));
    return v;
}

void finish(const WireReader& r) {
    if (!r.done()) throw std::runtime_error("trailing bytes in message");
}

}  // namespace

std::string encode(const Hello& h) {
    WireWriter w;
    w.str(h.host);
    w.u32(h.cores);
    w.u64(h.mem_total);
    w.u32(h.gpus);
    return std::move(w.buffer());
}

Hello decode_hello(const std::string& buf) {
    WireReader r(buf);
    Hello h;
    h.host = r.str();
    h.cores = r.u32();
    h.mem_total = r.u64();
    h.gpus = r.u32();
    finish(r);
    return h;
}

std::string encode(const NodeConfig& c) {
    WireWriter w;
    w.str(c.node);
    w.u32(c.slots);
    w.u8(c.slots_are_cores ? 1 : 0);
    w.u32(c.gpus);
    return std::move(w.buffer());
}

NodeConfig decode_node_config(const std::string& buf) {
    WireReader r(buf);
    NodeConfig c;
    c.node = r.str();
    c.slots = r.u32();
    c.slots_are_cores = r.u8() != 0;
    c.gpus = r.u32();
    finish(r);
    return c;
}

std::string encode(const JobConfig& c) {
    WireWriter w;
    w.str(c.job);
    w.str(c.tenant);
    w.u64(c.timeout_ms);
    w.strings(c.collect);
    put(w, c.staged);
    w.u8(c.urgent ? 1 : 0);
    w.strings(c.env);
    w.u32(c.cores_per_task);
    w.u64(c.mem_per_task);
    w.u32(c.gpus_per_task);
    w.str(c.user);
    return std::move(w.buffer());
}

JobConfig decode_job_config(const std::string& buf) {
    WireReader r(buf);
    JobConfig c;
    c.job = r.str();
    c.tenant = r.str();
    c.timeout_ms = r.u64();
    c.collect = r.strings();
    c.staged = get_blobs(r);
    c.urgent = r.u8() != 0;
    c.env = r.strings();
    c.cores_per_task = r.u32();
    c.mem_per_task = r.u64();
    c.gpus_per_task = r.u32();
    c.user = r.str();
    finish(r);
    return c;
}

std::string encode(const Report& rep) {
    WireWriter w;
    w.u32(rep.want);
    w.u32(static_cast<std::uint32_t>(rep.completions.size()));
    for (const auto& c : rep.completions) {
        w.u64(c.task);
        w.u32(c.attempt);
        w.u8(static_cast<std::uint8_t>(c.status));
        w.i32(c.exit_code);
        w.u64(c.wall_ms);
        w.str(c.reason);
        w.str(c.log);
        put(w, c.outputs);
        w.u8(static_cast<std::uint8_t>(c.energy_state));
        w.u64(c.energy_uj);
        w.u8(c.overridden ? 1 : 0);
        w.str(c.job);
    }
    w.u8(rep.heat.known ? 1 : 0);
    w.u32(rep.heat.allowed);
    w.u32(rep.heat.slots);
    w.u64(static_cast<std::uint64_t>(rep.heat.waste_mk));
    w.u64(rep.mem_available);
    return std::move(w.buffer());
}

Report decode_report(const std::string& buf) {
    WireReader r(buf);
    Report rep;
    rep.want = r.u32();
    std::uint32_t n = r.u32();
    for (std::uint32_t i = 0; i < n; ++i) {
        Completion c;
        c.task = r.u64();
        c.attempt = r.u32();
        std::uint8_t s = r.u8();
        if (s > static_cast<std::uint8_t>(AttemptStatus::cancelled))
            throw std::runtime_error("bad attempt status");
        c.status = static_cast<AttemptStatus>(s);
        c.exit_code = r.i32();
        c.wall_ms = r.u64();
        c.reason = r.str();
        c.log = r.str();
        c.outputs = get_blobs(r);
        std::uint8_t e = r.u8();
        if (e > static_cast<std::uint8_t>(EnergyState::estimated))
            throw std::runtime_error("bad energy state");
        c.energy_state = static_cast<EnergyState>(e);
        c.energy_uj = r.u64();
        c.overridden = r.u8() != 0;
        c.job = r.str();
        rep.completions.push_back(std::move(c));
    }
    rep.heat.known = r.u8() != 0;
    rep.heat.allowed = r.u32();
    rep.heat.slots = r.u32();
    rep.heat.waste_mk = static_cast<std::int64_t>(r.u64());
    rep.mem_available = r.u64();
    finish(r);
    return rep;
}

std::string encode(const std::vector<Assignment>& tasks) {
    WireWriter w;
    w.u32(static_cast<std::uint32_t>(tasks.size()));
    for (const auto& a : tasks) {
        w.u64(a.task);
        w.u32(a.attempt);
        w.strings(a.argv);
        w.str(a.job);
        w.u8(a.overridden ? 1 : 0);
        w.str(a.first);
        w.str(a.last);
    }
    return std::move(w.buffer());
}

std::vector<Assignment> decode_tasks(const std::string& buf) {
    WireReader r(buf);
    std::uint32_t n = r.u32();
    std::vector<Assignment> v;
    for (std::uint32_t i = 0; i < n; ++i) {
        Assignment a;
        a.task = r.u64();
        a.attempt = r.u32();
        a.argv = r.strings();
        a.job = r.str();
        a.overridden = r.u8() != 0;
        a.first = r.str();
        a.last = r.str();
        v.push_back(std::move(a));
    }
    finish(r);
    return v;
}

std::string encode(const std::vector<AttemptRef>& attempts) {
    WireWriter w;
    w.u32(static_cast<std::uint32_t>(attempts.size()));
    for (const auto& a : attempts) {
        w.str(a.job);
        w.u64(a.task);
        w.u32(a.attempt);
    }
    return std::move(w.buffer());
}

std::vector<AttemptRef> decode_cancel(const std::string& buf) {
    WireReader r(buf);
    std::uint32_t n = r.u32();
    std::vector<AttemptRef> v;
    for (std::uint32_t i = 0; i < n; ++i) {
        AttemptRef a;
        a.job = r.str();
        a.task = r.u64();
        a.attempt = r.u32();
        v.push_back(std::move(a));
    }
    finish(r);
    return v;
}

std::string encode(const Forget& f) {
    WireWriter w;
    w.str(f.job);
    return std::move(w.buffer());
}

Forget decode_forget(const std::string& buf) {
    WireReader r(buf);
    Forget f;
    f.job = r.str();
    finish(r);
    return f;
}

std::string encode(const Stop& s) {
    WireWriter w;
    w.u8(s.kill_running ? 1 : 0);
    return std::move(w.buffer());
}

Stop decode_stop(const std::string& buf) {
    WireReader r(buf);
    Stop s;
    s.kill_running = r.u8() != 0;
    finish(r);
    return s;
}

const char* to_string(AttemptStatus s) {
    switch (s) {
        case AttemptStatus::ok: return "ok";
        case AttemptStatus::exited: return "exit";
        case AttemptStatus::signalled: return "signal";
        case AttemptStatus::timed_out: return "timeout";
        case AttemptStatus::spawn_failed: return "spawn";
        case AttemptStatus::collect_failed: return "collect";
        case AttemptStatus::cancelled: return "cancelled";
    }
    return "unknown";
}

}  // namespace hearth
