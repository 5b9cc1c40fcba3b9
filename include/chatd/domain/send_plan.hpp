// The decision for each send of a batch, from what the store read under the
// conversation locks. Pure: no database, so the rules are unit-tested.
#pragma once

#include <cstddef>
#include <vector>

#include "chatd/core/expected.hpp"
#include "chatd/store/message_store.hpp"

namespace chatd::domain {

struct SendPlan {
  enum class Kind {
    reject,    // error: not a member, blocked, bad reply_to
    existing,  // a retry of a message already stored
    same_as,   // a retry of an earlier send of this batch (same_as)
    append,    // a new message at seq
  };
  Kind kind = Kind::reject;
  Error error;
  std::size_t same_as = 0;
  model::Seq seq = 0;
  // append: the sender had not accepted the conversation; writing accepts it.
  bool accepts = false;
};

// A requester's messages in a direct conversation until the recipient
// accepts (API.md, message requests).
inline constexpr std::int64_t kRequestMessageLimit = 3;

// In request order, exactly as if the sends ran one after another: the checks
// of a single send (membership, idempotency, block, a pending or declined
// request, reply_to), and seqs that
// continue each conversation's last_seq without a gap. A reply to a message
// appended earlier in the same batch is valid.
std::vector<SendPlan> plan_sends(const std::vector<const store::SendRequest*>& requests,
                                 const std::vector<store::SendState>& states);

}  // namespace chatd::domain
