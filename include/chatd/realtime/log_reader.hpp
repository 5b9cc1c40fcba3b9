// What fan-out reads from the database: the log, members, contacts. An
// interface so that fan-out can be tested without a database.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chatd/model/conversation.hpp"
#include "chatd/store/conversation_store.hpp"
#include "chatd/store/message_store.hpp"

namespace chatd::store {
class Connection;
}

namespace chatd::realtime {

class LogReader {
 public:
  virtual ~LogReader() = default;
  // Events after `after`, ascending, at most `limit`. Throws when the database is away.
  virtual store::Page<model::Event> events(model::ConversationId id, model::Seq after,
                                           int limit) = 0;
  virtual std::vector<model::UserId> member_ids(model::ConversationId id) = 0;
  // Who among `among` hears each user's presence, as (user, contact) pairs
  // (ConversationStore::audiences); with `even_hidden`, also while the user
  // hides it.
  virtual std::vector<std::pair<model::UserId, model::UserId>> audiences(
      const std::vector<model::UserId>& users, const std::vector<model::UserId>& among,
      bool even_hidden = false) = 0;
  // Whether the user has a socket on any instance.
  virtual bool online(model::UserId user) = 0;
  // The user's role and mute in the conversation; none when not a member.
  virtual std::optional<model::MemberState> standing(model::ConversationId id, model::UserId user) = 0;
  // What may be relayed about the member now; none when not a member.
  virtual std::optional<store::MemberPrivacy> privacy(model::ConversationId id, model::UserId user) = 0;
};

// The database-backed reader. It owns one connection outside the request
// pool: fan-out is sequential and must not queue behind request traffic.
class StoreLogReader final : public LogReader {
 public:
  explicit StoreLogReader(std::string database_url);
  ~StoreLogReader() override;
  store::Page<model::Event> events(model::ConversationId id, model::Seq after, int limit) override;
  std::vector<model::UserId> member_ids(model::ConversationId id) override;
  std::vector<std::pair<model::UserId, model::UserId>> audiences(
      const std::vector<model::UserId>& users, const std::vector<model::UserId>& among,
      bool even_hidden = false) override;
  bool online(model::UserId user) override;
  std::optional<model::MemberState> standing(model::ConversationId id, model::UserId user) override;
  std::optional<store::MemberPrivacy> privacy(model::ConversationId id, model::UserId user) override;

 private:
  std::unique_ptr<store::Connection> db_;
};

}  // namespace chatd::realtime
