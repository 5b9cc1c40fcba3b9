// The push worker's decisions, as pure functions (unit-tested without a
// database or a webhook): what a claimed job becomes, when a failed one is
// tried again, and what the webhook receives.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "chatd/model/push.hpp"

namespace chatd::push {

using Job = model::PushJob;

// How long after its n-th failure (attempts = n - 1 before it) a job is
// tried again: 1 s, doubling, at most 10 minutes.
std::chrono::seconds retry_delay(int attempts_before);

// After a failed POST: the jobs to drop as failed (older than `give_up`) and
// those to try again, each with its delay.
struct AfterFailure {
  std::vector<std::int64_t> failed;
  std::vector<std::int64_t> retry;
  std::vector<std::int64_t> retry_after_seconds;  // parallel to `retry`
};
AfterFailure after_failure(const std::vector<Job>& sent, std::chrono::seconds give_up);

// The webhook's JSON body for one user's jobs (ascending id, at least one):
// the newest job's message, the user's unread total, how many messages the
// POST stands for, and every job.
std::string payload(const std::vector<Job>& jobs, std::int64_t unread_total);
// The same jobs give the same key, so a gateway can drop a repeat (a POST
// whose answer was lost is sent again).
std::string idempotency_key(const std::vector<Job>& jobs);

}  // namespace chatd::push
