#include "chatd/domain/send_plan.hpp"

#include <map>
#include <set>
#include <string>
#include <tuple>

#include "chatd/domain/permissions.hpp"

namespace chatd::domain {

std::vector<SendPlan> plan_sends(const std::vector<const store::SendRequest*>& requests,
                                 const std::vector<store::SendState>& states) {
  std::vector<SendPlan> plan(requests.size());
  std::map<model::ConversationId, model::Seq> last;  // last seq allocated so far
  std::map<std::tuple<model::ConversationId, model::UserId, std::string>, std::size_t> appended;
  // Per (conversation, sender): messages stored under a pending request so far.
  std::map<std::pair<model::ConversationId, model::UserId>, std::int64_t> request_sends;
  std::set<std::pair<model::ConversationId, model::UserId>> accepted;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& q = *requests[i];
    const auto& s = states[i];
    auto& p = plan[i];
    if (auto ok = authorize(Action::send, s.membership, q.sender); !ok) {
      p.error = ok.error();
      continue;
    }
    if (s.existing) {
      p.kind = SendPlan::Kind::existing;
      continue;
    }
    auto key = std::make_tuple(q.conversation, q.sender, q.client_msg_id);
    if (auto it = appended.find(key); it != appended.end()) {
      p.kind = SendPlan::Kind::same_as;
      p.same_as = it->second;
      continue;
    }
    if (s.membership->kind == model::Kind::direct && s.blocked) {
      p.error = Error::forbidden("blocked", "one of you has blocked the other");
      continue;
    }
    if (s.peer == model::MemberStatus::declined) {
      p.error = Error::forbidden("request_declined", "the recipient declined this conversation");
      continue;
    }
    auto sender = std::make_pair(q.conversation, q.sender);
    if (s.peer == model::MemberStatus::request) {
      auto [count, first] = request_sends.try_emplace(sender, s.sent_before);
      if (count->second >= kRequestMessageLimit) {
        p.error = Error::forbidden(
            "request_pending", "the recipient has not accepted your message request yet (at most " +
                                   std::to_string(kRequestMessageLimit) + " messages until then)");
        continue;
      }
    }
    if (!s.attachments_readable) {
      p.error = Error::invalid(
          "attachments must name uploads of yours or ones shared with you in a conversation");
      continue;
    }
    auto [at, fresh] = last.try_emplace(q.conversation, s.membership->last_seq);
    model::Seq seq = at->second + 1;
    if (q.reply_to) {
      bool earlier_in_batch = *q.reply_to > s.membership->last_seq && *q.reply_to < seq;
      if (!s.reply_exists && !earlier_in_batch) {
        p.error = Error::invalid("reply_to must be the seq of a message in this conversation");
        continue;
      }
    }
    at->second = seq;
    p.kind = SendPlan::Kind::append;
    p.seq = seq;
    p.accepts = s.membership->status != model::MemberStatus::inbox && !accepted.count(sender);
    if (p.accepts) accepted.insert(sender);
    if (auto it = request_sends.find(sender); it != request_sends.end()) ++it->second;
    appended.emplace(std::move(key), i);
  }
  return plan;
}

}  // namespace chatd::domain
