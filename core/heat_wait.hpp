#pragma once
// "Waiting for heat": a queued task the policy holds back because no node of
// the grid has a heat-allowed slot free, while some node has a free slot its
// heat budget closes (the house is warm enough, the tank is full). Told apart
// from plain queued, where the grid is simply full or no site is there, so
// that a user sees why a job does not start (hearth-api(7)). Pure: the
// scheduler feeds it the room its sites last reported.
#include <cstdint>
#include <vector>

#include "core/site_api.hpp"

namespace hearth {

// One node's room after the scheduler's last grant there.
struct NodeRoom {
    std::uint32_t slots = 0;    // task slots by cores
    std::uint32_t allowed = 0;  // of those, what its heat budget allows (slots when unknown)
    std::uint32_t running = 0;  // attempts out there now, granted ones included, less its prefetch
    bool up = true;
};

// The room of a reported node once `granted` more attempts went there.
NodeRoom node_room(const NodeReport& n, std::uint32_t granted);

// True when no node that is up has a heat-allowed slot free and at least one
// has a free slot that only its heat budget closes.
bool held_for_heat(const std::vector<NodeRoom>& nodes);

}  // namespace hearth
