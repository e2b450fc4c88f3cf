#include "node_parts.hpp"

#include <algorithm>
#include <sstream>

#include "core/error.hpp"

namespace hearth {

NodeWithParts::NodeWithParts(std::unique_ptr<EnergySource> node, std::unique_ptr<EnergySource> cpu,
                             std::unique_ptr<EnergySource> gpu)
    : m_node(std::move(node)), m_cpu(std::move(cpu)), m_gpu(std::move(gpu)) {
    if (!m_node || (!m_cpu && !m_gpu))
        throw Error("a node meter split into parts needs the meter and at least one part");
}

std::string NodeWithParts::name() const {
    return m_node->name() + (m_cpu ? "+" + m_cpu->name() : "") + (m_gpu ? "+" + m_gpu->name() : "");
}

std::string NodeWithParts::meter() const {
    const auto what = [](const EnergySource& s) {
        return s.meter().empty() ? s.name() : s.meter();
    };
    return what(*m_node) + (m_cpu ? "+" + what(*m_cpu) : "") + (m_gpu ? "+" + what(*m_gpu) : "");
}

EnergyReading NodeWithParts::read() {
    EnergyReading out = m_node->read();
    std::uint64_t parts = 0;
    for (EnergySource* s : {m_cpu.get(), m_gpu.get()}) {
        if (!s) continue;
        EnergyReading r = s->read();
        parts += r.total.value;
        if (s == m_gpu.get()) out.gpus = std::move(r.gpus);
        for (auto& w : r.warnings) out.warnings.push_back(std::move(w));
    }
    out.parts = Microjoules{parts};
    return out;
}

std::chrono::milliseconds NodeWithParts::max_interval() const {
    auto m = m_node->max_interval();
    if (m_cpu) m = std::min(m, m_cpu->max_interval());
    if (m_gpu) m = std::min(m, m_gpu->max_interval());
    return m;
}

std::string NodeWithParts::checkpoint() const {
    std::string out = "node:" + m_node->checkpoint();
    if (m_cpu) out += "\ncpu:" + m_cpu->checkpoint();
    if (m_gpu) out += "\ngpu:" + m_gpu->checkpoint();
    return out;
}

void NodeWithParts::resume(const std::string& checkpoint, double elapsed_s) {
    std::istringstream in(checkpoint);
    std::string line;
    while (std::getline(in, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        const std::string who = line.substr(0, colon), cp = line.substr(colon + 1);
        if (who == "node")
            m_node->resume(cp, elapsed_s);
        else if (who == "cpu" && m_cpu)
            m_cpu->resume(cp, elapsed_s);
        else if (who == "gpu" && m_gpu)
            m_gpu->resume(cp, elapsed_s);
    }
}

}  // namespace hearth
