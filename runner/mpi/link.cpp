#include "runner/mpi/link.hpp"

#include <time.h>

namespace hearth {

void Backoff::sleep() {
    timespec ts{0, m_now * 1000};
    nanosleep(&ts, nullptr);
}

}  // namespace hearth
