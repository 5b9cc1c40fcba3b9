#include "chatd/domain/send_batcher.hpp"

#include <functional>
#include <map>
#include <optional>

#include "chatd/domain/send_plan.hpp"
#include "chatd/store/db_pool.hpp"
#include "chatd/store/transaction.hpp"

namespace chatd::domain {

using Result = Expected<SentMessage>;

struct SendBatcher::Pending {
  store::SendRequest request;
  Done done;
};

SendBatcher::SendBatcher(store::DbPool& db, EventPublisher& publisher, Options options)
    : db_(db), publisher_(publisher), opt_(options) {
  if (opt_.max_batch < 1) opt_.max_batch = 1;
  if (opt_.max_in_flight < 1) opt_.max_in_flight = 1;
}

// Drainer jobs hold `this` inside the database pool: wait for them.
SendBatcher::~SendBatcher() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return in_flight_ == 0; });
}

Task<Result> SendBatcher::send(store::SendRequest request) {
  auto start = [this, request = std::move(request)](Done done) mutable {
    submit(std::move(request), std::move(done));
  };
  return when_done<Result>(std::move(start));
}

void SendBatcher::submit(store::SendRequest request, Done done) {
  enqueue(std::make_unique<Pending>(Pending{std::move(request), std::move(done)}));
}

void SendBatcher::enqueue(std::unique_ptr<Pending> p) {
  bool start = false;
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= opt_.max_pending) {
      p->done(std::make_exception_ptr(Overloaded("send queue full")), std::nullopt);
      return;
    }
    queue_.push_back(std::move(p));
    if (in_flight_ < opt_.max_in_flight) {
      ++in_flight_;
      start = true;
    }
  }
  cv_.notify_one();  // a drainer may be waiting for its batch to fill
  if (start) start_drainer();
}

void SendBatcher::start_drainer() {
  auto job = [this](store::Connection& c) { drain(c); };
  if (db_.post(job)) return;
  // The pool refused (full, or stopping). The last drainer must not leave
  // sends queued with nobody to run them.
  std::deque<std::unique_ptr<Pending>> orphans;
  {
    std::lock_guard lock(mu_);
    --in_flight_;
    if (in_flight_ == 0) orphans.swap(queue_);
  }
  idle_.notify_all();
  for (auto& p : orphans) {
    p->done(std::make_exception_ptr(Overloaded("database queue full")), std::nullopt);
  }
}

// One batch per pool job; a drainer re-queues itself behind other database
// work while sends are waiting, so reads are not starved by a busy sender.
void SendBatcher::drain(store::Connection& c) {
  Batch batch;
  std::unordered_set<model::ConversationId> taken;
  {
    std::unique_lock lock(mu_);
    // Wait for the batch to fill only while another batch is committing: a
    // lone send then goes at once, and under load the wait costs nothing
    // (the commit before us holds the log flush anyway).
    if (in_flight_ > 1 && !queue_.empty() && queue_.size() < opt_.max_batch &&
        opt_.wait.count() > 0) {
      cv_.wait_for(lock, opt_.wait, [this] { return queue_.size() >= opt_.max_batch; });
    }
    // In queue order, passing over conversations another batch holds: their
    // later sends must not overtake the ones in flight.
    for (auto it = queue_.begin(); it != queue_.end() && batch.size() < opt_.max_batch;) {
      auto conv = (*it)->request.conversation;
      if (busy_.count(conv)) {
        ++it;
        continue;
      }
      taken.insert(conv);
      batch.push_back(std::move(*it));
      it = queue_.erase(it);
    }
    busy_.insert(taken.begin(), taken.end());
  }
  if (!batch.empty()) run(c, batch);
  bool again = false;
  {
    std::lock_guard lock(mu_);
    for (auto conv : taken) busy_.erase(conv);
    // A drainer that found only held conversations stops: the batch holding
    // them runs this check when it ends and takes them then.
    if (queue_.empty() || batch.empty()) {
      --in_flight_;
    } else {
      again = true;
    }
  }
  if (again) {
    start_drainer();
  } else {
    idle_.notify_all();
  }
}

namespace {

// What a batch's transaction wrote, for the announcements after its commit.
struct Written {
  std::vector<model::Event> events;
  // Members who accepted a conversation by writing in it.
  std::vector<std::pair<model::ConversationId, model::UserId>> accepted;
};

// Checks and appends every request of the batch in the caller's transaction.
std::vector<Result> send_all(store::Transaction& tx,
                             const std::vector<const store::SendRequest*>& requests,
                             std::optional<std::chrono::milliseconds> push_delay,
                             Written& written) {
  written = {};  // a retried transaction starts over
  auto& committed = written.events;
  store::MessageStore messages(tx);
  std::vector<model::ConversationId> ids;
  ids.reserve(requests.size());
  for (const auto* r : requests) ids.push_back(r->conversation);
  messages.lock_conversations(ids);
  auto states = messages.send_states(requests);
  auto plan = plan_sends(requests, states);

  std::vector<store::NewMessage> appends;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    if (plan[i].kind != SendPlan::Kind::append) continue;
    appends.push_back({requests[i], plan[i].seq});
    if (plan[i].accepts) written.accepted.emplace_back(requests[i]->conversation, requests[i]->sender);
  }
  std::map<std::pair<model::ConversationId, model::Seq>, model::Message> stored;
  if (!appends.empty()) {
    for (auto& a : messages.append_all(appends, push_delay)) {
      stored.emplace(std::make_pair(a.message.conversation_id, a.message.seq),
                     std::move(a.message));
      committed.push_back(std::move(a.event));
    }
    messages.accept_by_writing(written.accepted);
  }

  std::vector<Result> out;
  out.reserve(plan.size());
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const auto& p = plan[i];
    switch (p.kind) {
      case SendPlan::Kind::reject:
        out.emplace_back(p.error);
        break;
      case SendPlan::Kind::existing:
        out.emplace_back(SentMessage{*states[i].existing, false});
        break;
      case SendPlan::Kind::same_as: {
        const auto& first = plan[p.same_as];
        out.emplace_back(SentMessage{stored.at({requests[i]->conversation, first.seq}), false});
        break;
      }
      case SendPlan::Kind::append:
        out.emplace_back(SentMessage{stored.at({requests[i]->conversation, p.seq}), true});
        break;
    }
  }
  return out;
}

}  // namespace

void SendBatcher::run(store::Connection& c, Batch& batch) {
  std::vector<const store::SendRequest*> requests;
  requests.reserve(batch.size());
  for (const auto& p : batch) requests.push_back(&p->request);

  std::vector<Result> results;
  Written written;
  const auto& committed = written.events;
  std::exception_ptr failure;
  try {
    // Rejections do not roll the batch back: they wrote nothing.
    results = store::transact(c, [&](store::Transaction& tx) {
      return send_all(tx, requests, opt_.push_delay, written);
    });
  } catch (...) {
    failure = std::current_exception();
  }

  if (failure && batch.size() > 1) {
    // Something in the batch broke the transaction (or the connection went).
    // Re-run each send alone: the culprit gets the error, the others their
    // answer, exactly as without batching.
    for (auto& p : batch) {
      Batch one;
      one.push_back(std::move(p));
      run(c, one);
    }
    return;
  }

  if (!failure) {
    if (opt_.commits && !committed.empty()) opt_.commits->fetch_add(1, std::memory_order_relaxed);
    if (opt_.stored) opt_.stored->fetch_add(committed.size(), std::memory_order_relaxed);
  }
  if (!failure) {
    // Live delivery hears of the messages only once they are durable, and
    // gets their content with them.
    if (!committed.empty()) publisher_.events_committed(committed);
    for (const auto& [conv, user] : written.accepted) publisher_.standing_changed(conv, user);
    // A retry answers with a stored message. If its first attempt failed in
    // doubt but did commit, nobody announced it: announce a reference now
    // (delivery reads the log from its own position, so a repeat is free).
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto& r = results[i];
      if (r && !r.value().created) {
        publisher_.events_committed(r.value().message.conversation_id, r.value().message.seq,
                                    r.value().message.seq);
      }
    }
  } else {
    // The commit's outcome is unknown (the appends ran, then the connection
    // failed). Content must not go out for what may have rolled back, but a
    // reference is safe: delivery reads the log and finds what is there.
    for (const auto& e : committed) publisher_.events_committed(e.conversation_id, e.seq, e.seq);
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (failure) {
      batch[i]->done(failure, std::nullopt);
    } else {
      batch[i]->done(nullptr, std::move(results[i]));
    }
  }
}

}  // namespace chatd::domain
