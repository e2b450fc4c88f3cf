#include "core/completion_batch.hpp"

#include <utility>

namespace hearth {

void CompletionBatch::add(Completion c, TimePoint now) {
    if (m_done.empty()) m_first = now;
    m_done.push_back(std::move(c));
}

bool CompletionBatch::due(TimePoint now) const {
    return !m_done.empty() && (m_done.size() >= k_max || now - m_first >= k_delay);
}

std::vector<Completion> CompletionBatch::take() {
    std::vector<Completion> out = std::move(m_done);
    m_done.clear();
    return out;
}

}  // namespace hearth
