#include "chatd/push/schedule.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace chatd::push {

std::chrono::seconds retry_delay(int attempts_before) {
  constexpr std::int64_t kMax = 600;
  int shift = std::clamp(attempts_before, 0, 10);  // 2^10 s is past the cap
  return std::chrono::seconds(std::min<std::int64_t>(std::int64_t{1} << shift, kMax));
}

AfterFailure after_failure(const std::vector<Job>& sent, std::chrono::seconds give_up) {
  AfterFailure out;
  for (const auto& j : sent) {
    if (j.age_seconds >= static_cast<double>(give_up.count())) {
      out.failed.push_back(j.id);
    } else {
      out.retry.push_back(j.id);
      out.retry_after_seconds.push_back(retry_delay(j.attempts).count());
    }
  }
  return out;
}

std::string payload(const std::vector<Job>& jobs, std::int64_t unread_total) {
  const Job& newest = jobs.back();
  auto list = nlohmann::json::array();
  for (const auto& j : jobs) list.push_back({{"conversation_id", j.conversation}, {"seq", j.seq}});
  nlohmann::json body = {{"user_id", newest.user},
                         {"conversation_id", newest.conversation},
                         {"seq", newest.seq},
                         {"sender_id", newest.sender},
                         {"preview", newest.preview},
                         {"unread_total", unread_total},
                         {"messages", jobs.size()},
                         {"jobs", std::move(list)}};
  // Previews were cut by characters in the database; replace rather than
  // throw should a byte sequence ever be invalid.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string idempotency_key(const std::vector<Job>& jobs) {
  return std::to_string(jobs.front().user) + ":" + std::to_string(jobs.front().id) + "-" +
         std::to_string(jobs.back().id);
}

}  // namespace chatd::push
