#include "chatd/realtime/fan_out.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace chatd::realtime {

using model::ConversationId;
using model::Seq;
using model::UserId;

namespace {
// The kinds of event after which a conversation's member set is another.
bool changes_membership(const std::string& kind) {
  return kind == "member.added" || kind == "member.removed" || kind == "conversation.created";
}

std::size_t bytes_of(const std::vector<model::Event>& events) {
  std::size_t n = 0;
  for (const auto& e : events) n += e.data_json.size() + e.kind.size() + 64;
  return n;
}
}  // namespace

FanOut::FanOut(LogReader& reader, const SessionIndex& sessions, Options options,
               Counters counters)
    : reader_(reader), sessions_(sessions), opt_(options), counters_(counters) {}

// ------------------------------------------------------------ queueing

void FanOut::merge_locked(ConversationId id, Pending p) {
  auto it = pending_.find(id);
  if (it == pending_.end()) {
    if (pending_.size() >= opt_.max_pending_conversations) {
      // Too much to track: every connection rechecks against the log instead.
      bump(counters_.dropped);
      recheck_ = true;
      return;
    }
    if (content_bytes_ + p.bytes > opt_.max_content_bytes) {
      p.content.clear();
      p.bytes = 0;
    }
    content_bytes_ += p.bytes;
    pending_.emplace(id, std::move(p));
    ready_.push_back(id);
    return;
  }
  Pending& q = it->second;
  q.from = std::min(q.from, p.from);
  q.to = std::max(q.to, p.to);
  bool contiguous = !q.content.empty() && !p.content.empty() &&
                    p.content.front().seq == q.content.back().seq + 1;
  if (contiguous && content_bytes_ + p.bytes <= opt_.max_content_bytes) {
    for (auto& e : p.content) q.content.push_back(std::move(e));
    q.bytes += p.bytes;
    content_bytes_ += p.bytes;
  } else if (p.content.empty()) {
    // A bare reference (our own back through LISTEN, or another instance's):
    // the range widens, and what content is held is still one run from its
    // first seq; fan_out reads from the log only what it does not cover.
  } else if (!q.content.empty()) {
    // Not one run of events any more: the log has them all.
    content_bytes_ -= q.bytes;
    q.content.clear();
    q.bytes = 0;
  }
}

void FanOut::announce(ConversationId id, Seq from, Seq to) {
  {
    std::lock_guard lock(mu_);
    merge_locked(id, Pending{from, to, {}, 0, 0});
  }
  cv_.notify_one();
}

void FanOut::committed_here(std::vector<model::Event> events) {
  if (events.empty()) return;
  Pending p;
  p.from = events.front().seq;
  p.to = events.back().seq;
  p.bytes = bytes_of(events);
  ConversationId id = events.front().conversation_id;
  p.content = std::move(events);
  {
    std::lock_guard lock(mu_);
    merge_locked(id, std::move(p));
  }
  cv_.notify_one();
}

void FanOut::signal(Notice notice) {
  {
    std::lock_guard lock(mu_);
    if (signals_.size() >= opt_.max_signals) {
      bump(counters_.dropped);
      return;
    }
    signals_.push_back(std::move(notice));
  }
  cv_.notify_one();
}

void FanOut::reset() {
  {
    std::lock_guard lock(mu_);
    recheck_ = true;
  }
  cv_.notify_one();
}

std::size_t FanOut::pending() const {
  std::lock_guard lock(mu_);
  // Presence notices read already and waiting for their turns count too: a
  // burst of them is work the fan-out thread still owes.
  return pending_.size() + signals_.size() + heard_waiting_.load(std::memory_order_relaxed);
}

// ------------------------------------------------------------- running

void FanOut::run() {
  for (;;) {
    if (step()) continue;
    std::unique_lock lock(mu_);
    if (stopping_) return;
    auto wake = [this] {
      return stopping_ || recheck_ || !ready_.empty() || !signals_.empty();
    };
    if (retry_.empty()) {
      cv_.wait(lock, wake);
    } else {
      cv_.wait_until(lock, retry_.begin()->first, wake);
    }
    if (stopping_) return;
  }
}

void FanOut::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
}

bool FanOut::step() {
  std::unique_lock lock(mu_);
  if (stopping_) return false;
  auto now = Clock::now();
  while (!retry_.empty() && retry_.begin()->first <= now) {
    ready_.push_back(retry_.begin()->second);
    retry_.erase(retry_.begin());
  }
  if (recheck_) {
    recheck_ = false;
    lock.unlock();
    // Positions and member sets may be stale now: start over from the log.
    states_.clear();
    for (const auto& s : sessions_.all()) s->recheck();
    return true;
  }
  bool signals = !heard_.empty() || !signals_.empty();
  bool take_signal = signals && (signal_turn_ || ready_.empty());
  signal_turn_ = !signal_turn_;
  if (take_signal) {
    if (!heard_.empty()) {  // read already: one notice a turn, like any signal
      lock.unlock();
      deliver_heard();
      return true;
    }
    // Presence comes in bursts (the presence thread commits users in
    // batches, and a restart brings everyone back): consecutive presence
    // notices share one read, and keep their order.
    std::vector<Notice> batch;
    do {
      batch.push_back(std::move(signals_.front()));
      signals_.pop_front();
    } while (batch.front().kind == Notice::Kind::presence && batch.size() < opt_.presence_batch &&
             !signals_.empty() && signals_.front().kind == Notice::Kind::presence);
    // Still owed while their audiences are read (heard_ is empty here).
    if (batch.front().kind == Notice::Kind::presence) {
      heard_waiting_.store(batch.size(), std::memory_order_relaxed);
    }
    lock.unlock();
    try {
      if (batch.front().kind == Notice::Kind::presence) {
        hear_presence(batch);
        heard_waiting_.store(heard_.size(), std::memory_order_relaxed);
        deliver_heard();
      } else {
        handle(batch.front());
      }
    } catch (const std::exception& e) {
      heard_waiting_.store(heard_.size(), std::memory_order_relaxed);
      bump(counters_.errors);  // one failed read, however many notices it was for
      spdlog::debug("fan-out: {} signal(s) dropped: {}", batch.size(), e.what());
    }
    return true;
  }
  if (ready_.empty()) return false;
  ConversationId id = ready_.front();
  ready_.pop_front();
  auto node = pending_.extract(id);
  Pending p = std::move(node.mapped());
  content_bytes_ -= p.bytes;
  lock.unlock();

  try {
    fan_out(id, p);
  } catch (const std::exception& e) {
    bump(counters_.errors);
    // Only this conversation waits; its content may go stale, the log will not.
    p.content.clear();
    p.bytes = 0;
    ++p.failures;
    auto backoff = std::min<std::chrono::milliseconds>(
        opt_.max_backoff, std::chrono::milliseconds(50L << std::min(p.failures, 10)));
    if (p.failures == 1) spdlog::warn("fan-out: conversation {}: {}; retrying", id, e.what());
    std::lock_guard relock(mu_);
    auto it = pending_.find(id);
    if (it != pending_.end()) {  // more came meanwhile: it is queued already
      it->second.from = std::min(it->second.from, p.from);
      it->second.to = std::max(it->second.to, p.to);
      it->second.failures = p.failures;
    } else {
      pending_.emplace(id, std::move(p));
      retry_.emplace(Clock::now() + backoff, id);
    }
  }
  return true;
}

// ------------------------------------------------------------ delivery

FanOut::State& FanOut::state_for(ConversationId id, Seq from) {
  if (states_.size() >= opt_.max_cached_conversations && !states_.count(id)) states_.clear();
  auto& st = states_[id];
  if (st.fanned < 0) {
    st.fanned = from - 1;
    // Members loaded for a signal may predate what we now start from.
    st.members.reset();
    st.kept = false;
  }
  return st;
}

std::unordered_set<UserId>& FanOut::members(ConversationId id, State& st) {
  if (!st.members) {
    auto ids = reader_.member_ids(id);
    st.members.emplace(ids.begin(), ids.end());
  }
  return *st.members;
}

bool FanOut::any_local(const std::unordered_set<UserId>& users) const {
  for (UserId u : users) {
    if (sessions_.has(u)) return true;
  }
  return false;
}

void FanOut::fan_out(ConversationId id, Pending& p) {
  State& st = state_for(id, p.from);
  if (p.to <= st.fanned) return;
  if (st.kept) {
    // A member set kept over a conversation nobody here was told of is
    // still the set when this work is known, from the content committed
    // here, to leave membership as it was (a REST sender's conversation:
    // otherwise one member read per batch). Anything else, another
    // instance's reference or a member added or removed, may have changed
    // it: loaded again, as it is after every such pass.
    bool seen = !p.content.empty() && p.content.front().seq <= st.fanned + 1 &&
                p.content.back().seq >= p.to;
    bool neutral = seen;
    for (const auto& e : p.content) {
      if (e.seq > st.fanned && changes_membership(e.kind)) neutral = false;
    }
    if (!neutral) st.members.reset();
    st.kept = false;
  }
  if (!any_local(members(id, st))) {
    // Nobody here to tell. The member set is kept for the next pass, which
    // decides above whether it still holds.
    st.fanned = p.to;
    st.kept = true;
    return;
  }
  if (!p.content.empty() && p.content.front().seq <= st.fanned + 1) {
    for (const auto& e : p.content) {
      if (e.seq == st.fanned + 1) deliver(id, e, st);
    }
  }
  while (st.fanned < p.to) {
    auto page = reader_.events(id, st.fanned, opt_.page);
    for (const auto& e : page.items) {
      if (e.seq > st.fanned) deliver(id, e, st);
    }
    if (!page.has_more) break;
  }
}

void FanOut::deliver(ConversationId id, const model::Event& e, State& st) {
  auto& who = members(id, st);
  // Membership changes take effect at their own seq: the added member gets
  // member.added, the removed one gets member.removed and nothing after it.
  auto subject = [&e]() -> UserId {
    auto data = nlohmann::json::parse(e.data_json, nullptr, false);
    return data.is_object() ? data.value("user_id", UserId{0}) : 0;
  };
  if (e.kind == "member.added") who.insert(subject());
  Frame frame = event_frame(e);
  std::uint64_t n = 0;
  for (UserId u : who) {
    for (const auto& s : sessions_.sessions_of(u)) {
      s->deliver_event(id, e.seq, frame);
      ++n;
    }
  }
  bump(counters_.delivered, n);
  if (e.kind == "member.removed") who.erase(subject());
  st.fanned = e.seq;
}

void FanOut::send_to(const std::unordered_set<UserId>& users, UserId except, const Frame& frame) {
  for (UserId u : users) {
    if (u == except) continue;
    for (const auto& s : sessions_.sessions_of(u)) s->deliver_frame(frame);
  }
}

void FanOut::hear_presence(const std::vector<Notice>& batch) {
  // Only the audience connected here is read: with nobody here, nothing is.
  auto local = sessions_.users();
  if (local.empty()) return;
  std::vector<UserId> users;
  for (const auto& n : batch) users.push_back(n.user);
  std::sort(users.begin(), users.end());
  users.erase(std::unique(users.begin(), users.end()), users.end());
  std::unordered_map<UserId, std::vector<UserId>> audience;
  for (const auto& [user, contact] : reader_.audiences(users, local)) {
    audience[user].push_back(contact);
  }
  for (const auto& n : batch) {  // in the order announced: online, then offline
    auto it = audience.find(n.user);
    if (it != audience.end()) heard_.push_back({n, it->second});
  }
}

void FanOut::deliver_heard() {
  if (heard_.empty()) return;
  auto [n, audience] = std::move(heard_.front());
  heard_.pop_front();
  heard_waiting_.store(heard_.size(), std::memory_order_relaxed);
  Frame frame = presence_frame(n.user, n.online);
  for (UserId contact : audience) {
    for (const auto& s : sessions_.sessions_of(contact)) s->deliver_presence(frame);
  }
}

void FanOut::handle(const Notice& n) {
  switch (n.kind) {
    // The member's settings and standing are read now, not when the notice
    // was sent: a switch also holds for notices already on their way.
    // Nobody here to tell: no query at all.
    case Notice::Kind::read: {
      auto& who = members(n.conversation, states_[n.conversation]);
      if (!any_local(who)) return;
      auto privacy = reader_.privacy(n.conversation, n.user);
      if (!privacy || !privacy->accepted || !privacy->read_receipts) return;
      send_to(who, n.user, read_frame(n.conversation, n.user, n.to));
      break;
    }
    case Notice::Kind::typing: {
      auto& who = members(n.conversation, states_[n.conversation]);
      if (!any_local(who)) return;
      // Only members, and none who has not accepted (a request) yet.
      auto privacy = reader_.privacy(n.conversation, n.user);
      if (!privacy || !privacy->accepted) return;
      send_to(who, n.user, typing_frame(n.conversation, n.user));
      break;
    }
    case Notice::Kind::standing: {
      auto state = reader_.standing(n.conversation, n.user);
      if (!state) return;  // not a member any more: member.removed told them
      Frame frame = conversation_state_frame(*state);
      for (const auto& s : sessions_.sessions_of(n.user)) s->deliver_frame(frame);
      break;
    }
    case Notice::Kind::visibility: {
      // Only a user who is connected looks different: hidden, the audience
      // hears "offline" once (it must not keep showing them online); shown
      // again, "online". An absent user's audience already sees them offline.
      auto local = sessions_.users();
      if (local.empty() || !reader_.online(n.user)) return;
      Frame frame = presence_frame(n.user, n.online);
      for (const auto& [user, contact] : reader_.audiences({n.user}, local, true)) {
        for (const auto& s : sessions_.sessions_of(contact)) s->deliver_presence(frame);
      }
      break;
    }
    default:  // presence goes through hear_presence, in runs
      break;
  }
}

}  // namespace chatd::realtime
