#pragma once
// The one fake of the FsRoot seam: a real temporary directory (removed on
// destruction) whose files tests write, plus reads that fail on demand with
// the errno a kernel gives (EIO from hardware, EACCES for non-root), which
// real files cannot do for a root test runner.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>

#include "core/fsroot.hpp"

namespace hearth::test {

class FakeFs : public FsRoot {
public:
    FakeFs() : FsRoot(make_temp_dir()) {}
    ~FakeFs() override {
        std::error_code ec;
        std::filesystem::remove_all(root(), ec);
    }
    FakeFs(const FakeFs&) = delete;
    FakeFs& operator=(const FakeFs&) = delete;

    // Creates the parent directories as sysfs would have them.
    void write(const std::string& abs, const std::string& text) {
        std::filesystem::path p(path(abs));
        std::filesystem::create_directories(p.parent_path());
        std::ofstream out(p, std::ios::trunc);
        out << text;
        if (!out.flush()) throw std::runtime_error("FakeFs: cannot write " + p.string());
    }
    void mkdir(const std::string& abs) { std::filesystem::create_directories(path(abs)); }
    void remove(const std::string& abs) { std::filesystem::remove_all(path(abs)); }
    // read(abs) fails with `error` until heal(abs).
    void fail(const std::string& abs, int error) { m_failures[abs] = error; }
    void heal(const std::string& abs) { m_failures.erase(abs); }

    // Copies a directory (a captured fixture tree) to abs inside the root.
    void copy_tree(const std::filesystem::path& from, const std::string& abs) {
        mkdir(abs);
        std::filesystem::copy(from, path(abs),
                              std::filesystem::copy_options::recursive |
                                  std::filesystem::copy_options::overwrite_existing);
    }

    // A kept file as the kernel's: each read sees what the test last wrote
    // (write() rewrites the same file in place, so an open descriptor sees
    // it), an injected failure fails it (and closes it, as the real reader
    // does), and once the test removed the file a kept descriptor reads
    // what the kernel gives for a removed one: ESRCH for /proc (the process
    // has exited), ENODEV for sysfs (the device went away). The next read
    // opens the path again.
    int reread_into(const std::string& abs, int& fd, std::string& text,
                    std::size_t limit) const override {
        auto close_fd = [&fd] {
            if (fd >= 0) ::close(fd);
            fd = -1;
        };
        auto f = m_failures.find(abs);
        if (f != m_failures.end()) {
            close_fd();
            text.clear();
            return f->second;
        }
        struct stat st {};
        if (fd >= 0 && ::fstat(fd, &st) == 0 && st.st_nlink == 0) {
            close_fd();
            text.clear();
            return abs.rfind("/proc/", 0) == 0 ? ESRCH : ENODEV;
        }
        return FsRoot::reread_into(abs, fd, text, limit);
    }
    ReadResult read(const std::string& abs) const override {
        auto f = m_failures.find(abs);
        if (f != m_failures.end()) return ReadResult{std::nullopt, f->second};
        return FsRoot::read(abs);
    }

    // A powercap zone as the kernel shows it. max_power_uw, when given, is
    // constraint_0's maximum (the PL1 "long_term" constraint).
    void add_zone(const std::string& dir, const std::string& name, std::uint64_t max_range_uj,
                  std::uint64_t energy_uj,
                  std::optional<std::uint64_t> max_power_uw = std::nullopt) {
        write(dir + "/name", name + "\n");
        write(dir + "/max_energy_range_uj", std::to_string(max_range_uj) + "\n");
        write(dir + "/enabled", "1\n");
        set_energy(dir, energy_uj);
        if (max_power_uw) {
            write(dir + "/constraint_0_name", "long_term\n");
            write(dir + "/constraint_0_max_power_uw", std::to_string(*max_power_uw) + "\n");
        }
    }
    void set_energy(const std::string& dir, std::uint64_t energy_uj) {
        write(dir + "/energy_uj", std::to_string(energy_uj) + "\n");
    }

    // An ACPI power meter as acpi_power_meter shows it under hwmon: power in
    // microwatts averaged over interval_ms. With energy_uj, also the energy
    // counter some drivers have.
    void add_power_meter(const std::string& hwmon_dir, std::uint64_t power_uw,
                         std::uint64_t interval_ms = 1000,
                         std::optional<std::uint64_t> energy_uj = std::nullopt) {
        write(hwmon_dir + "/name", "power_meter\n");
        write(hwmon_dir + "/power1_average", std::to_string(power_uw) + "\n");
        write(hwmon_dir + "/power1_average_interval", std::to_string(interval_ms) + "\n");
        if (energy_uj) write(hwmon_dir + "/energy1_input", std::to_string(*energy_uj) + "\n");
    }

private:
    static std::string make_temp_dir() {
        const char* tmp = std::getenv("TMPDIR");
        std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/hearth-fakefs-XXXXXX";
        if (!::mkdtemp(templ.data()))
            throw std::system_error(errno, std::generic_category(), "FakeFs: mkdtemp");
        return templ;
    }

    std::map<std::string, int> m_failures;
};

// A golden fixture under tests/fixtures/: found from HEARTH_ROOT (tests/run.sh
// sets it) or else from the working directory, where the build runs.
inline std::filesystem::path fixture_path(const std::string& rel) {
    const char* root = std::getenv("HEARTH_ROOT");
    return std::filesystem::path(root && *root ? root : ".") / "tests/fixtures" / rel;
}

}  // namespace hearth::test
