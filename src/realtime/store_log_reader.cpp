#include "chatd/realtime/log_reader.hpp"

#include "chatd/store/connection.hpp"
#include "chatd/store/conversation_store.hpp"
#include "chatd/store/transaction.hpp"

namespace chatd::realtime {

StoreLogReader::StoreLogReader(std::string database_url)
    : db_(std::make_unique<store::Connection>(std::move(database_url))) {}

StoreLogReader::~StoreLogReader() = default;

store::Page<model::Event> StoreLogReader::events(model::ConversationId id, model::Seq after,
                                                 int limit) {
  return store::transact(
      *db_, [&](store::Transaction& tx) { return store::MessageStore(tx).events(id, after, limit); },
      store::TxMode::one_statement);
}

std::vector<model::UserId> StoreLogReader::member_ids(model::ConversationId id) {
  return store::transact(
      *db_, [&](store::Transaction& tx) { return store::ConversationStore(tx).member_ids(id); },
      store::TxMode::one_statement);
}

std::vector<std::pair<model::UserId, model::UserId>> StoreLogReader::audiences(
    const std::vector<model::UserId>& users, const std::vector<model::UserId>& among,
    bool even_hidden) {
  return store::transact(
      *db_,
      [&](store::Transaction& tx) {
        return store::ConversationStore(tx).audiences(users, among, even_hidden);
      },
      store::TxMode::one_statement);
}

bool StoreLogReader::online(model::UserId user) {
  return store::transact(
      *db_, [&](store::Transaction& tx) { return store::ConversationStore(tx).has_socket(user); },
      store::TxMode::one_statement);
}

std::optional<model::MemberState> StoreLogReader::standing(model::ConversationId id,
                                                           model::UserId user) {
  return store::transact(
      *db_, [&](store::Transaction& tx) { return store::ConversationStore(tx).standing(id, user); },
      store::TxMode::one_statement);
}

std::optional<store::MemberPrivacy> StoreLogReader::privacy(model::ConversationId id,
                                                           model::UserId user) {
  return store::transact(
      *db_, [&](store::Transaction& tx) { return store::ConversationStore(tx).privacy(id, user); },
      store::TxMode::one_statement);
}

}  // namespace chatd::realtime
