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
  store::Page<model::Event> page;
  store::run_single_statement(*db_, [&](store::Transaction& tx) {
    page = store::MessageStore(tx).events(id, after, limit);
    return true;
  });
  return page;
}

std::vector<model::UserId> StoreLogReader::member_ids(model::ConversationId id) {
  std::vector<model::UserId> ids;
  store::run_single_statement(*db_, [&](store::Transaction& tx) {
    ids = store::ConversationStore(tx).member_ids(id);
    return true;
  });
  return ids;
}

std::vector<model::UserId> StoreLogReader::contacts(model::UserId user) {
  std::vector<model::UserId> ids;
  store::run_single_statement(*db_, [&](store::Transaction& tx) {
    ids = store::ConversationStore(tx).contacts(user);
    return true;
  });
  return ids;
}

}  // namespace chatd::realtime
