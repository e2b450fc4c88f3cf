#include "core/sim_plot.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "core/error.hpp"

namespace hearth {

namespace {

// The figure: A4's width at 150 dpi; each site a row a third of A4 high.
constexpr double k_width_px = 1240;
constexpr double k_title_px = 130;  // the title, two lines, and the legend
constexpr double k_legend_px = 62;
constexpr double k_row_px = 560;
// Within a row: the site's title, the temperature panel, a gap, the
// power panel, its time labels.
constexpr double k_head_px = 56, k_temp_px = 252, k_gap_px = 14, k_power_px = 150;
constexpr double k_left_px = 90, k_right_px = 84;

constexpr const char* k_aware_colour = "#c0392b";
constexpr const char* k_unaware_colour = "#2166ac";

bool ends_with_ci(const std::string& s, const std::string& suffix) {
    if (s.size() < suffix.size()) return false;
    for (std::size_t i = 0; i < suffix.size(); ++i) {
        char c = s[s.size() - suffix.size() + i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != suffix[i]) return false;
    }
    return true;
}

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

// A gnuplot double-quoted string (the terminal is noenhanced, so ^ _ { }
// in names print as they are).
std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";  // gnuplot's escape: a line break in a title
            continue;
        }
        out += c == '\r' ? ' ' : c;
    }
    return out + "\"";
}

std::string utc_text(std::int64_t unix_s, const char* format) {
    const std::time_t t = static_cast<std::time_t>(unix_s);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, format, &tm);
    return buf;
}

const char* colour(SimPolicy p) { return p == SimPolicy::heat_aware ? k_aware_colour : k_unaware_colour; }
// Dashed for unaware, so that the two read apart in grey print too.
const char* dash(SimPolicy p) { return p == SimPolicy::heat_aware ? "dt 1" : "dt (8,5)"; }

struct TimeTics {
    double step_s;
    const char* format;
    int minor;
};

// Major time tics at most 8 a panel, on round local (UTC) hours or days.
TimeTics time_tics(double duration_s) {
    static const std::array<TimeTics, 10> k_tics{{{3600, "%a %H:%M", 4},
                                                  {2 * 3600, "%a %H:%M", 2},
                                                  {3 * 3600, "%a %H:%M", 3},
                                                  {6 * 3600, "%a %H:%M", 6},
                                                  {12 * 3600, "%a %d %b %H:%M", 2},
                                                  {86400, "%a %d %b", 4},
                                                  {2 * 86400, "%a %d %b", 2},
                                                  {7 * 86400, "%d %b", 7},
                                                  {14 * 86400, "%d %b", 2},
                                                  {28 * 86400, "%d %b", 4}}};
    for (const auto& t : k_tics)
        if (duration_s / t.step_s <= 8) return t;
    return {std::ceil(duration_s / 8 / 86400) * 86400, "%d %b", 1};
}

// A round tic step giving about four tics up to max (1, 2, 2.5 or 5 x 10^k).
double nice_step(double max) {
    const double raw = std::max(max, 1e-9) / 4;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 2.5, 5.0})
        if (m * mag >= raw) return m * mag;
    return 10 * mag;
}

struct Range {
    double lo = 1e300, hi = -1e300;
    void add(double v) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
};

struct SiteStats {
    Range temp;
    double power_max_kw = 0, starved_max_h = 0;
    bool has_override = false;
};

// What every part of the script shares.
struct Figure {
    const std::vector<SimResult>* runs = nullptr;
    std::size_t cols = 1, rows = 1;
    double height_px = 0;
    std::string marker, head_font, time_format;
    std::size_t jobs_index = 0;
    bool any_job = false, any_priority = false, any_deadline = false, any_override = false;
    std::string sx(double px) const { return fmt("%.5f", px / k_width_px); }
    std::string sy(double px_from_top) const { return fmt("%.5f", 1 - px_from_top / height_px); }
};

constexpr const char* k_band_style = "fc rgb \"#b8e186\" fs solid 0.45 noborder";
constexpr const char* k_target_style = "lc rgb \"#1a7f37\" lw 1.5 dt (4,4)";
constexpr const char* k_arrival_style = "lc rgb \"#762a83\" lw 1";  // thin: dense arrivals read as density
constexpr const char* k_urgent_colour = "lc rgb \"#d6604d\"";
constexpr const char* k_override_style = "fc rgb \"#fdb863\" fs solid 0.8 noborder";
constexpr const char* k_starved_style = "lc rgb \"#777777\" lw 2.5";

// One site's row: its temperature panel above its power panel.
std::string site_script(const Figure& f, std::size_t k, const Site& site, const SiteStats& st) {
    const auto& runs = *f.runs;
    const std::string data = quoted(k_plot_data_name);
    const double left = static_cast<double>(k % f.cols) * k_width_px / static_cast<double>(f.cols);
    const double right = left + k_width_px / static_cast<double>(f.cols);
    const double top = k_title_px + static_cast<double>(k / f.cols) * k_row_px + k_head_px;
    const bool bottom_row = k / f.cols == f.rows - 1;
    const double span = std::max(1.0, st.temp.hi - st.temp.lo);
    const double y_lo = std::floor(st.temp.lo - 0.1 * span), y_hi = std::ceil(st.temp.hi + 0.05 * span);
    const double mark_y = y_lo + 0.05 * (y_hi - y_lo);
    auto block = [&](std::size_t run) { return std::to_string(k * runs.size() + run); };

    std::string s = "\n# site " + site.name + "\n";
    s += "set lmargin at screen " + f.sx(left + k_left_px) + "\nset rmargin at screen " + f.sx(right - k_right_px) +
         "\n";
    s += "set tmargin at screen " + f.sy(top) + "\nset bmargin at screen " + f.sy(top + k_temp_px) + "\n";
    std::string head = site.name + " (" + to_string(site.kind) + "): target " + fmt("%g", site.target.value) +
                       " °C ± " + fmt("%g", site.band);
    // Half a page wide, a schedule goes on a line of its own.
    if (!site.schedule.empty()) head += (f.cols > 1 ? "\nschedule \"" : ", schedule \"") + site.schedule + "\"";
    s += "set title " + quoted(head) + " font " + quoted(f.head_font) + "\n";
    s += "set format x \"\"\nunset xlabel\n";
    s += "set ylabel \"temperature, °C\"\nset ytics autofreq nomirror\nunset y2tics\nunset y2label\n";
    s += "set yrange [" + fmt("%g", y_lo) + ":" + fmt("%g", y_hi) + "]\n";
    s += "plot " + data + " index " + block(0) + " using 1:5:6 with filledcurves " + k_band_style + ", \\\n";
    s += "  '' index " + block(0) + " using 1:4 with fsteps " + k_target_style;
    for (std::size_t p = 0; p < runs.size(); ++p)
        s += ", \\\n  '' index " + block(p) + " using 1:3 with lines lc rgb \"" + colour(runs[p].policy) +
             "\" lw 2 " + dash(runs[p].policy);
    // Arrivals as a rug of ticks along the bottom (an hourly job would
    // make a wall of symbols); urgent and deadline work as triangles.
    const std::string mark = fmt("%g", mark_y), base = fmt("%g", y_lo);
    const std::string jobs = std::to_string(f.jobs_index);
    if (f.any_job)
        s += ", \\\n  '' index " + jobs + " using 1:($2 > 0 ? 1/0 : " + base + "):(0):(" + fmt("%g", mark_y - y_lo) +
             ") with vectors nohead " + k_arrival_style;
    if (f.any_priority)
        s += ", \\\n  '' index " + jobs + " using 1:($2 > 0 ? " + mark + " : 1/0) with points pt 9 ps " + f.marker +
             " " + k_urgent_colour;
    if (f.any_deadline)
        s += ", \\\n  '' index " + jobs + " using ($3 > 0 ? $3 : 1/0):(" + mark + ") with points pt 11 ps " +
             f.marker + " " + k_urgent_colour;
    s += "\n";

    // Power (left axis) and starved hours (right axis).
    s += "set tmargin at screen " + f.sy(top + k_temp_px + k_gap_px) + "\nset bmargin at screen " +
         f.sy(top + k_temp_px + k_gap_px + k_power_px) + "\n";
    s += "unset title\nset format x " + quoted(f.time_format) + "\n";
    if (bottom_row) s += "set xlabel \"UTC\"\n";
    s += "set ylabel \"power, kW\"\nset y2label \"starved, h\"\n";
    const double p_top = std::max(0.1, st.power_max_kw * 1.1), s_top = std::max(1.0, st.starved_max_h * 1.1);
    s += "set yrange [0:" + fmt("%g", p_top) + "]\nset ytics 0," + fmt("%g", nice_step(p_top)) + "\n";
    s += "set y2range [0:" + fmt("%g", s_top) + "]\nset y2tics 0," + fmt("%g", nice_step(s_top)) + "\n";
    std::string plot;
    auto add = [&](const std::string& clause) { plot += (plot.empty() ? "" : ", \\\n  ") + clause; };
    for (std::size_t p = 0; p < runs.size(); ++p)
        if (st.has_override && runs[p].policy == SimPolicy::heat_aware)
            add(data + " index " + block(p) + " using 1:8 with fillsteps " + k_override_style);
    for (std::size_t p = 0; p < runs.size(); ++p)
        add(data + " index " + block(p) + " using 1:7 with fsteps lc rgb \"" + colour(runs[p].policy) +
            "\" lw 1.2 " + dash(runs[p].policy));
    for (std::size_t p = 0; p < runs.size(); ++p)
        add(data + " index " + block(p) + " using 1:9 axes x1y2 with lines " + k_starved_style + " " +
            dash(runs[p].policy));
    s += "plot " + plot + "\nunset xlabel\n";
    return s;
}

// One legend for the figure, under its title: the same styles in every
// panel, so no panel's key hides its data. Drawn as a plot of nothing in
// the header's band.
std::string legend_script(const Figure& f) {
    const auto& runs = *f.runs;
    std::string s = "\n# the legend\n";
    s += "set lmargin at screen 0.03\nset rmargin at screen 0.97\n";
    s += "set tmargin at screen " + f.sy(k_title_px - k_legend_px) + "\nset bmargin at screen " + f.sy(k_title_px - 4) +
         "\n";
    s += "unset title\nunset border\nunset xtics\nunset mxtics\nunset ytics\nunset y2tics\nunset grid\n";
    s += "unset xlabel\nunset ylabel\nunset y2label\nset yrange [0:1]\n";
    s += "set key center center horizontal Left reverse samplen 2.5 spacing 1.1 width 1 maxrows 2\n";
    std::string plot;
    auto add = [&](const std::string& clause) { plot += (plot.empty() ? "" : ", \\\n  ") + clause; };
    for (const auto& r : runs)
        add(std::string("NaN with lines lc rgb \"") + colour(r.policy) + "\" lw 2 " + dash(r.policy) + " title " +
            quoted(std::string(to_string(r.policy)) + " (°C; kW below)"));
    add(std::string("NaN with lines ") + k_target_style + " title \"target\"");
    add(std::string("NaN with filledcurves y1=0 ") + k_band_style + " title \"target ± band\"");
    add(std::string("NaN with lines ") + k_starved_style + " title \"starved, h (right axis)\"");
    if (f.any_override)
        add(std::string("NaN with filledcurves y1=0 ") + k_override_style + " title \"deadline override, kW\"");
    // A tick, as the rug along the panels' bottom shows them.
    if (f.any_job) add(std::string("NaN with points pt \"|\" ") + k_arrival_style + " title \"job arrives\"");
    if (f.any_priority)
        add("NaN with points pt 9 ps " + f.marker + " " + k_urgent_colour + " title \"urgent/deadline job arrives\"");
    if (f.any_deadline)
        add("NaN with points pt 11 ps " + f.marker + " " + k_urgent_colour + " title \"its deadline\"");
    s += "plot " + plot + "\n";
    return s;
}

// The data file: one block per site and run (site-major: block
// site * runs + run), then one block of the jobs; blocks are separated by
// two blank lines, gnuplot's `index`. Columns of a site block:
//   1 unix_s  2 hours  3 temp_c  4 target_c  5 band_low_c  6 band_high_c
//   7 power_kw (mean over the interval ending at the row)  8 override_kw
//   9 starved_h (since the start)
// of the jobs block: 1 arrival unix_s  2 urgent or deadline (0/1)
//   3 deadline unix_s (-1: none)
// Fills each site's ranges and which job marks f needs.
std::string data_text(const Scenario& sc, const std::vector<SimResult>& runs, std::vector<SiteStats>& stats,
                      Figure& f) {
    const auto start = static_cast<double>(sc.start_unix);
    std::string d;
    char row[256];
    // A scenario's name is any string: kept to one comment line.
    std::string name = sc.name;
    std::replace_if(name.begin(), name.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    d += "# hearth sim --plot data: scenario " + name + ", start " +
         utc_text(sc.start_unix, "%Y-%m-%dT%H:%M:%SZ") + "\n";
    for (std::size_t k = 0; k < stats.size(); ++k) {
        const Site& site = sc.grid.sites.at(runs[0].series[k].site);
        for (const auto& r : runs) {
            d += "# site " + site.name + ", policy " + to_string(r.policy) + ", band " +
                 fmt("%g", site.band) + " K\n";
            d += "# unix_s\thours\ttemp_c\ttarget_c\tband_low_c\tband_high_c\tpower_kw\toverride_kw\tstarved_h\n";
            for (const auto& p : r.series[k].samples) {
                std::snprintf(row, sizeof row, "%.0f\t%.6f\t%.4f\t%.4f\t%.4f\t%.4f\t%.6f\t%.6f\t%.6f\n",
                              start + p.t_s, p.t_s / 3600, p.temp_c, p.target_c, p.target_c - site.band,
                              p.target_c + site.band, p.power_w / 1000, p.override_w / 1000, p.starved_h);
                d += row;
                auto& st = stats[k];
                st.temp.add(p.temp_c);
                st.temp.add(p.target_c - site.band);
                st.temp.add(p.target_c + site.band);
                st.power_max_kw = std::max(st.power_max_kw, p.power_w / 1000);
                st.starved_max_h = std::max(st.starved_max_h, p.starved_h);
                st.has_override = st.has_override || p.override_w > 0;
            }
            d += "\n\n";
        }
    }
    d += "# jobs\n# arrival_unix_s\turgent_or_deadline\tdeadline_unix_s\n";
    for (const auto& j : runs[0].jobs) {
        const bool priority = j.urgent || j.deadline_s > 0;
        std::snprintf(row, sizeof row, "%.0f\t%d\t%.0f\n", start + j.arrival_s, priority ? 1 : 0,
                      j.deadline_s > 0 ? start + j.deadline_s : -1.0);
        d += row;
        (priority ? f.any_priority : f.any_job) = true;
        f.any_deadline = f.any_deadline || j.deadline_s > 0;
    }
    return d;
}

}  // namespace

PlotFormat plot_format(const std::string& path) {
    if (ends_with_ci(path, ".svg")) return PlotFormat::svg;
    if (ends_with_ci(path, ".png")) return PlotFormat::png;
    throw usage_error("--plot '" + path + "': the file name must end in .svg or .png (the format to draw)");
}

std::vector<std::size_t> plot_sites(const Grid& g, const std::vector<std::string>& named) {
    std::vector<std::size_t> out;
    if (named.empty()) {
        for (std::size_t i = 0; i < g.sites.size() && i < k_plot_default_sites; ++i) out.push_back(i);
        return out;
    }
    if (named.size() > k_plot_max_sites)
        throw usage_error("--plot-site names " + std::to_string(named.size()) + " sites; a plot draws at most " +
                          std::to_string(k_plot_max_sites) + ", make one plot per group");
    for (const auto& name : named) {
        std::size_t i = 0;
        while (i < g.sites.size() && g.sites[i].name != name) ++i;
        if (i == g.sites.size())
            throw usage_error("--plot-site '" + name + "' is not a site of the scenario's grid; name one of its [[site]]s");
        if (std::find(out.begin(), out.end(), i) == out.end()) out.push_back(i);
    }
    return out;
}

SimTrace plot_trace(const Scenario& sc, const std::vector<std::size_t>& sites) {
    static const std::array<double, 13> k_round_s{60,   120,   300,   600,   900,   1200, 1800,
                                                  3600, 7200, 10800, 21600, 43200, 86400};
    const double want = sc.duration_s / 1000;
    double interval = k_round_s.back();
    for (double s : k_round_s)
        if (s >= want) {
            interval = s;
            break;
        }
    SimTrace t;
    t.sites = sites;
    t.every_steps = static_cast<std::uint32_t>(std::max(1.0, std::round(interval / sc.step_s)));
    return t;
}

PlotInput sim_plot(const Scenario& sc, const std::vector<SimResult>& runs, PlotFormat format) {
    if (runs.empty() || runs.size() > 2) throw Error("hearth sim --plot: one or two runs to draw; this is a bug");
    const std::size_t n_sites = runs[0].series.size();
    for (const auto& r : runs)
        if (r.series.size() != n_sites)
            throw Error("hearth sim --plot: the runs traced different sites; this is a bug");
    const auto start = static_cast<double>(sc.start_unix);
    const double end = start + runs[0].simulated_s;

    PlotInput out;
    std::vector<SiteStats> stats(n_sites);
    Figure f;
    out.data = data_text(sc, runs, stats, f);

    // The script.
    f.runs = &runs;
    f.cols = n_sites <= 3 ? 1 : 2;
    f.rows = std::max<std::size_t>(1, (n_sites + f.cols - 1) / f.cols);
    f.height_px = k_title_px + static_cast<double>(f.rows) * k_row_px;
    f.marker = format == PlotFormat::svg ? "0.7" : "1.4";
    f.head_font = format == PlotFormat::svg ? ",16" : ",13";
    f.jobs_index = n_sites * runs.size();
    for (std::size_t k = 0; k < n_sites; ++k) f.any_override = f.any_override || stats[k].has_override;

    std::string& s = out.script;
    s += "# hearth sim --plot: drawn by gnuplot from " + std::string(k_plot_data_name) + "\n";
    s += "set encoding utf8\n";
    const std::string size = fmt("%.0f", k_width_px) + "," + fmt("%.0f", f.height_px);
    if (format == PlotFormat::svg)
        s += "set terminal svg size " + size + " font \"sans,13\" noenhanced background \"white\"\n";
    else
        s += "set terminal pngcairo size " + size + " font \"sans,11\" noenhanced background \"white\"\n";
    s += "set output " + quoted(k_plot_output_name) + "\n";
    s += "set datafile separator \"\\t\"\n";
    s += "set xdata time\nset timefmt \"%s\"\n";
    s += "set xrange [" + fmt("%.0f", start) + ":" + fmt("%.0f", end) + "]\n";
    // Major tics on round UTC hours, or midnights for a day or more.
    const TimeTics tics = time_tics(runs[0].simulated_s);
    const double tic_unit = std::min(tics.step_s, 86400.0);
    s += "set xtics " + fmt("%.0f", std::ceil(start / tic_unit) * tic_unit) + "," + fmt("%.0f", tics.step_s) +
         " nomirror\n";
    s += "set mxtics " + std::to_string(tics.minor) + "\n";
    // Half a page wide, a label's date goes under its day.
    f.time_format = tics.format;
    if (f.cols > 1) {
        const auto space = f.time_format.find(' ');
        if (space != std::string::npos) f.time_format[space] = '\n';
    }
    s += "set grid xtics mxtics ytics lc rgb \"#dddddd\" lw 1 dt 1, lc rgb \"#eeeeee\" lw 1 dt 1\n";
    s += "unset key\n";
    std::string title = "hearth sim " + sc.name + ": ";
    for (std::size_t i = 0; i < runs.size(); ++i) title += (i ? " (solid) vs " : "") + std::string(to_string(runs[i].policy));
    if (runs.size() == 2) title += " (dashed)";
    // The scenario runs its schedules in UTC: UTC is its local time.
    title += "\n" + utc_text(sc.start_unix, "%a %d %b %Y %H:%M") + " to " +
             utc_text(static_cast<std::int64_t>(end), "%a %d %b %Y %H:%M") + " UTC, the scenario's clock";
    s += "set multiplot title " + quoted(title) + " font \",14\"\n";
    for (std::size_t k = 0; k < n_sites; ++k)
        s += site_script(f, k, sc.grid.sites.at(runs[0].series[k].site), stats[k]);
    s += legend_script(f);
    s += "unset multiplot\nset output\n";
    return out;
}

}  // namespace hearth
