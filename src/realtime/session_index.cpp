#include "chatd/realtime/session_index.hpp"

#include <algorithm>
#include <mutex>

namespace chatd::realtime {

bool SessionIndex::attach(const std::shared_ptr<Subscriber>& s) {
  std::unique_lock lock(mu_);
  auto& list = by_user_[s->user()];
  if (std::find(list.begin(), list.end(), s) != list.end()) return false;
  list.push_back(s);
  ++count_;
  return list.size() == 1;
}

bool SessionIndex::detach(const Subscriber* s) {
  std::unique_lock lock(mu_);
  auto it = by_user_.find(s->user());
  if (it == by_user_.end()) return false;
  auto& list = it->second;
  auto pos = std::find_if(list.begin(), list.end(),
                          [s](const std::shared_ptr<Subscriber>& p) { return p.get() == s; });
  if (pos == list.end()) return false;
  list.erase(pos);
  --count_;
  if (!list.empty()) return false;
  by_user_.erase(it);
  return true;
}

bool SessionIndex::has(model::UserId user) const {
  std::shared_lock lock(mu_);
  return by_user_.count(user) > 0;
}

std::vector<std::shared_ptr<Subscriber>> SessionIndex::sessions_of(model::UserId user) const {
  std::shared_lock lock(mu_);
  auto it = by_user_.find(user);
  if (it == by_user_.end()) return {};
  return it->second;
}

std::vector<std::shared_ptr<Subscriber>> SessionIndex::all() const {
  std::vector<std::shared_ptr<Subscriber>> out;
  std::shared_lock lock(mu_);
  out.reserve(count_);
  for (const auto& [user, list] : by_user_) out.insert(out.end(), list.begin(), list.end());
  return out;
}

std::vector<model::UserId> SessionIndex::users() const {
  std::vector<model::UserId> out;
  std::shared_lock lock(mu_);
  out.reserve(by_user_.size());
  for (const auto& [user, list] : by_user_) out.push_back(user);
  return out;
}

std::size_t SessionIndex::size() const {
  std::shared_lock lock(mu_);
  return count_;
}

}  // namespace chatd::realtime
