#include "chatd/domain/conversation_service.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <set>
#include <string_view>
#include <tuple>

#include "chatd/domain/permissions.hpp"
#include "chatd/domain/validation.hpp"
#include "chatd/store/conversation_store.hpp"
#include "chatd/store/db_pool.hpp"
#include "chatd/store/message_store.hpp"
#include "chatd/store/transaction.hpp"

// Jobs handed to the pool are named locals: see run_on in core/async.hpp.

namespace chatd::domain {

using model::ConversationId;
using model::UserId;
using store::ConversationStore;
using store::Transaction;

namespace {
Error blocked() {
  return Error::forbidden("blocked", "one of you has blocked the other");
}
Error user_not_found(UserId id) { return Error::not_found("no user with id " + std::to_string(id)); }
Error group_full(std::size_t max) {
  return Error::conflict("group_full", "a group holds at most " + std::to_string(max) + " members");
}
Error not_a_member(UserId user) {
  return Error::not_found("user " + std::to_string(user) + " is not a member");
}

Expected<model::ConversationView> view_or_not_found(ConversationStore& convs, ConversationId id,
                                                    UserId me) {
  auto view = convs.view(id, me);
  if (!view) return conversation_not_found();
  return *view;
}
}  // namespace

std::string encode_cursor(std::int64_t snapshot, std::int64_t key, ConversationId id) {
  return std::to_string(snapshot) + "." + std::to_string(key) + "." + std::to_string(id);
}

bool decode_cursor(const std::string& text, std::int64_t& snapshot, std::int64_t& key,
                   ConversationId& id) {
  auto first = text.find('.');
  auto second = first == std::string::npos ? first : text.find('.', first + 1);
  if (second == std::string::npos) return false;
  auto a = parse_id(std::string_view(text).substr(0, first), "cursor");
  auto b = parse_id(std::string_view(text).substr(first + 1, second - first - 1), "cursor");
  auto c = parse_id(std::string_view(text).substr(second + 1), "cursor");
  if (!a || !b || !c) return false;
  snapshot = *a;
  key = *b;
  id = *c;
  return true;
}

Task<Expected<CreatedConversation>> ConversationService::create_direct(UserId me, UserId peer) {
  if (peer == me) co_return Error::invalid("peer_id must be another user");
  Committed committed;
  Committed* out = &committed;
  bool reopened = false;
  bool* reopened_out = &reopened;
  auto job = [me, peer, out, reopened_out](store::Connection& c) {
    return store::transact(c, [&](Transaction& tx) -> Expected<CreatedConversation> {
      ConversationStore convs(tx);
      if (!convs.user_exists(peer)) return user_not_found(peer);
      if (convs.blocked_either_way(me, peer)) return blocked();
      ConversationId id = 0;
      bool created = false;
      if (auto existing = convs.find_direct(me, peer)) {
        id = *existing;
        // Opening it again accepts a request (or a declined one) of mine.
        auto mine = convs.membership(id, me, false);
        if (mine && mine->status != model::MemberStatus::inbox) {
          convs.set_status(id, me, model::MemberStatus::inbox);
          *reopened_out = true;
        }
      } else {
        auto admission = convs.admission({peer}, me);
        if (admission.empty()) return user_not_found(peer);
        auto status = admit(peer, admission[0].policy, admission[0].contact);
        if (!status) return status.error();
        std::tie(id, created) = convs.create_direct(me, peer, *status);
        if (created) *out = {id, 1, 1};
        // Lost a race to the peer's own create: opening it is accepting it.
        auto mine = created ? std::nullopt : convs.membership(id, me, false);
        if (mine && mine->status != model::MemberStatus::inbox) {
          convs.set_status(id, me, model::MemberStatus::inbox);
          *reopened_out = true;
        }
      }
      auto view = convs.view(id, me);
      if (!view) return conversation_not_found();
      return CreatedConversation{*view, created};
    });
  };
  auto result = co_await db_.run<Expected<CreatedConversation>>(job);
  if (result) {
    committed.publish(publisher_);
    if (reopened) publisher_.standing_changed(result->view.id, me);
  }
  co_return result;
}

Task<Expected<CreatedConversation>> ConversationService::create_group(
    UserId me, std::string title, std::vector<UserId> member_ids) {
  if (auto p = title_problem(title); !p.empty()) co_return Error::invalid(p);
  std::set<UserId> seen;
  std::vector<UserId> others;
  for (UserId id : member_ids) {
    if (id < 1) co_return Error::invalid("member_ids must be positive user ids");
    if (!seen.insert(id).second) {
      co_return Error::invalid("member_ids lists user " + std::to_string(id) + " twice");
    }
    if (id != me) others.push_back(id);
  }
  if (others.size() + 1 > max_group_size_) co_return group_full(max_group_size_);
  Committed committed;
  Committed* out = &committed;
  auto job = [me, title, others, out](store::Connection& c) {
    return store::transact(c, [&](Transaction& tx) -> Expected<CreatedConversation> {
      ConversationStore convs(tx);
      auto unknown = convs.unknown_users(others);
      if (!unknown.empty()) {
        return Error::invalid("member_ids lists unknown user " + std::to_string(unknown[0]));
      }
      std::vector<UserId> inbox, requested;
      for (const auto& a : convs.admission(others, me)) {
        auto status = admit(a.user, a.policy, a.contact);
        if (!status) return status.error();
        (*status == model::MemberStatus::inbox ? inbox : requested).push_back(a.user);
      }
      auto id = convs.create_group(title, me, inbox, requested);
      *out = {id, 1, 1};
      auto view = convs.view(id, me);
      if (!view) return conversation_not_found();
      return CreatedConversation{*view, true};
    });
  };
  auto result = co_await db_.run<Expected<CreatedConversation>>(job);
  if (result) committed.publish(publisher_);
  co_return result;
}

namespace {
// A requests-folder cursor carries this suffix, so that one folder's cursor
// is refused by the other.
constexpr std::string_view kRequestsCursor = ".r";
}  // namespace

Task<Expected<ConversationPage>> ConversationService::list(UserId me, Folder folder, int limit,
                                                           std::optional<std::string> cursor) {
  std::int64_t snapshot = 0, key = std::numeric_limits<std::int64_t>::max();
  ConversationId after_id = std::numeric_limits<std::int64_t>::max();
  bool requests = folder == Folder::requests;
  if (cursor) {
    std::string_view text = *cursor;
    bool marked = text.size() > kRequestsCursor.size() &&
                  text.substr(text.size() - kRequestsCursor.size()) == kRequestsCursor;
    if (marked) text.remove_suffix(kRequestsCursor.size());
    if (marked != requests || !decode_cursor(std::string(text), snapshot, key, after_id)) {
      co_return Error::invalid("cursor is not one this server issued for this folder");
    }
  }
  bool first_page = !cursor;
  auto status = requests ? model::MemberStatus::request : model::MemberStatus::inbox;
  auto job = [me, status, requests, limit, first_page, snapshot, key, after_id](store::Connection& c) {
    return store::transact(c, [&](Transaction& tx) -> Expected<ConversationPage> {
      ConversationStore convs(tx);
      std::int64_t snap = first_page ? convs.activity_snapshot(me) : snapshot;
      auto rows = convs.list(me, status, snap, key, after_id, limit + 1);
      ConversationPage page;
      bool more = static_cast<int>(rows.size()) > limit;
      if (more) rows.pop_back();
      if (more && !rows.empty()) {
        page.next_cursor = encode_cursor(snap, rows.back().activity_key, rows.back().id);
        if (requests) *page.next_cursor += kRequestsCursor;
      }
      page.items = std::move(rows);
      return page;
    });
  };
  co_return co_await db_.run<Expected<ConversationPage>>(job);
}

Task<Expected<model::ConversationView>> ConversationService::get(UserId me, ConversationId id) {
  auto job = [me, id](store::Connection& c) {
    return store::transact(c, [&](Transaction& tx) -> Expected<model::ConversationView> {
      store::use_snapshot(tx);
      ConversationStore convs(tx);
      return view_or_not_found(convs, id, me);
    });
  };
  co_return co_await db_.run<Expected<model::ConversationView>>(job);
}

Task<Expected<model::ConversationView>> ConversationService::update_title(UserId me,
                                                                          ConversationId id,
                                                                          std::string title) {
  if (auto p = title_problem(title); !p.empty()) co_return Error::invalid(p);
  Committed committed;
  Committed* out = &committed;
  auto job = [me, id, title, out](store::Connection& c) {
    return store::transact(c, [&](Transaction& tx) -> Expected<model::ConversationView> {
      ConversationStore convs(tx);
      auto m = convs.membership(id, me, true);
      if (auto ok = authorize(Action::update_conversation, m, me); !ok) return ok.error();
      convs.set_title(id, title, me);
      *out = {id, m->last_seq + 1, m->last_seq + 1};
      return view_or_not_found(convs, id, me);
    });
  };
  auto result = co_await db_.run<Expected<model::ConversationView>>(job);
  if (result) committed.publish(publisher_);
  co_return result;
}

Task<Expected<model::ConversationView>> ConversationService::add_member(UserId me,
                                                                        ConversationId id,
                                                                        UserId user) {
  Committed committed;
  Committed* out = &committed;
  std::size_t max = max_group_size_;
  auto job = [me, id, user, out, max](store::Connection& c) {
    return store::transact(c, [&](Transaction& tx) -> Expected<model::ConversationView> {
      ConversationStore convs(tx);
      auto m = convs.membership(id, me, true);
      if (auto ok = authorize(Action::add_member, m, me); !ok) return ok.error();
      if (!convs.user_exists(user)) return user_not_found(user);
      if (convs.role_of(id, user)) {
        return Error::conflict("already_member", "user " + std::to_string(user) +
                                                     " is already a member");
      }
      // Under the conversation lock, so two adds cannot both take the last place.
      if (static_cast<std::size_t>(convs.member_count(id)) >= max) return group_full(max);
      auto admission = convs.admission({user}, me);
      if (admission.empty()) return user_not_found(user);
      auto status = admit(user, admission[0].policy, admission[0].contact);
      if (!status) return status.error();
      convs.add_member(id, user, model::Role::member, me, *status);
      *out = {id, m->last_seq + 1, m->last_seq + 1};
      return view_or_not_found(convs, id, me);
    });
  };
  auto result = co_await db_.run<Expected<model::ConversationView>>(job);
  if (result) committed.publish(publisher_);
  co_return result;
}

Task<Expected<Unit>> ConversationService::remove_member(UserId me, ConversationId id, UserId user) {
  Committed committed;
  Committed* out = &committed;
  std::optional<UserId> heir_out_value;
  std::optional<UserId>* heir_out = &heir_out_value;
  auto job = [me, id, user, out, heir_out](store::Connection& c) {
    return store::transact(c, [&](Transaction& tx) -> Expected<Unit> {
      ConversationStore convs(tx);
      auto m = convs.membership(id, me, true);
      if (!m) return conversation_not_found();
      auto role = convs.role_of(id, user);
      if (!role) {
        // Members may see who is not there; it reveals nothing beyond the member list.
        if (m->kind == model::Kind::group) return not_a_member(user);
      }
      if (auto ok = authorize(Action::remove_member, m, me, {user, role}); !ok) return ok.error();
      model::Seq last = m->last_seq;
      if (role == model::Role::owner && convs.owner_count(id) == 1) {
        // The group is never without an owner: the successor first, then the leave.
        if (auto heir = convs.successor(id, user)) {
          last = convs.set_role(id, *heir, model::Role::owner, me).seq;
          *heir_out = heir;
        }
      }
      last = convs.remove_member(id, user, me).seq;
      *out = {id, m->last_seq + 1, last};
      return Unit{};
    });
  };
  auto result = co_await db_.run<Expected<Unit>>(job);
  if (result) {
    committed.publish(publisher_);
    if (heir_out_value) publisher_.standing_changed(id, *heir_out_value);
  }
  co_return result;
}

Task<Expected<model::ConversationView>> ConversationService::set_role(UserId me, ConversationId id,
                                                                      UserId user, std::string role) {
  auto wanted = model::role_from(role);
  if (!wanted) co_return Error::invalid("role must be \"owner\", \"admin\" or \"member\"");
  model::Role to = *wanted;
  Committed committed;
  Committed* out = &committed;
  std::vector<UserId> changed;
  std::vector<UserId>* changed_out = &changed;
  auto job = [me, id, user, to, out, changed_out](store::Connection& c) {
    return store::transact(c, [&](Transaction& tx) -> Expected<model::ConversationView> {
      ConversationStore convs(tx);
      auto m = convs.membership(id, me, true);
      if (auto ok = authorize(Action::change_role, m, me); !ok) return ok.error();
      auto current = convs.role_of(id, user);
      if (!current) return not_a_member(user);
      model::Seq last = m->last_seq;
      if (user == me) {
        // The owner keeps the group owned: ownership is handed over, not dropped.
        if (to != model::Role::owner) {
          return Error::conflict("last_owner", "hand ownership to another member first");
        }
      } else if (to == model::Role::owner) {
        last = convs.set_role(id, user, model::Role::owner, me).seq;
        last = convs.set_role(id, me, model::Role::admin, me).seq;
        *changed_out = {user, me};
      } else if (*current != to) {
        last = convs.set_role(id, user, to, me).seq;
        *changed_out = {user};
      }
      *out = {id, m->last_seq + 1, last};
      return view_or_not_found(convs, id, me);
    });
  };
  auto result = co_await db_.run<Expected<model::ConversationView>>(job);
  if (result) {
    committed.publish(publisher_);
    for (UserId u : changed) publisher_.standing_changed(id, u);
  }
  co_return result;
}

namespace {
Task<Expected<model::ConversationView>> set_mute(store::DbPool& db, EventPublisher& publisher, UserId me,
                                                 ConversationId id, bool muted,
                                                 std::optional<std::string> until) {
  auto job = [me, id, muted, until](store::Connection& c) {
    return store::transact(c, [&](Transaction& tx) -> Expected<model::ConversationView> {
      ConversationStore convs(tx);
      auto m = convs.membership(id, me, false);
      if (auto ok = authorize(Action::read, m, me); !ok) return ok.error();
      convs.set_mute(id, me, muted, until);
      return view_or_not_found(convs, id, me);
    });
  };
  auto result = co_await db.run<Expected<model::ConversationView>>(job);
  if (result) publisher.standing_changed(id, me);
  co_return result;
}
}  // namespace

Task<Expected<model::ConversationView>> ConversationService::mute(UserId me, ConversationId id,
                                                                  std::optional<std::string> until) {
  if (until) {
    if (auto p = timestamp_problem(*until); !p.empty()) co_return Error::invalid("until " + p);
  }
  co_return co_await set_mute(db_, publisher_, me, id, true, std::move(until));
}

Task<Expected<model::ConversationView>> ConversationService::unmute(UserId me, ConversationId id) {
  co_return co_await set_mute(db_, publisher_, me, id, false, std::nullopt);
}

Task<Expected<model::ConversationView>> ConversationService::accept(UserId me, ConversationId id) {
  bool changed = false;
  bool* changed_out = &changed;
  auto job = [me, id, changed_out](store::Connection& c) {
    return store::transact(c, [&](Transaction& tx) -> Expected<model::ConversationView> {
      ConversationStore convs(tx);
      auto m = convs.membership(id, me, false);
      if (auto ok = authorize(Action::read, m, me); !ok) return ok.error();
      // Also on the inbox: an explicit acceptance makes the others contacts.
      convs.set_status(id, me, model::MemberStatus::inbox);
      *changed_out = m->status != model::MemberStatus::inbox;
      return view_or_not_found(convs, id, me);
    });
  };
  auto result = co_await db_.run<Expected<model::ConversationView>>(job);
  if (result && changed) publisher_.standing_changed(id, me);
  co_return result;
}

Task<Expected<Unit>> ConversationService::decline(UserId me, ConversationId id) {
  bool changed = false;
  bool* changed_out = &changed;
  auto job = [me, id, changed_out](store::Connection& c) {
    return store::transact(c, [&](Transaction& tx) -> Expected<Unit> {
      ConversationStore convs(tx);
      auto m = convs.membership(id, me, false);
      if (auto ok = authorize(Action::read, m, me); !ok) return ok.error();
      if (m->status == model::MemberStatus::inbox) {
        return Error::conflict("not_a_request", "this conversation is not a message request");
      }
      if (m->status == model::MemberStatus::request) {
        convs.set_status(id, me, model::MemberStatus::declined);
        *changed_out = true;
      }
      return Unit{};
    });
  };
  auto result = co_await db_.run<Expected<Unit>>(job);
  if (result && changed) publisher_.standing_changed(id, me);
  co_return result;
}

Task<Expected<model::Seq>> ConversationService::mark_read(UserId me, ConversationId id,
                                                          model::Seq seq) {
  if (seq < 0) co_return Error::invalid("seq must be a non-negative integer");
  bool moved = false;
  bool* moved_out = &moved;
  auto job = [me, id, seq, moved_out](store::Connection& c) {
    return store::transact(c, [&](Transaction& tx) -> Expected<model::Seq> {
      ConversationStore convs(tx);
      auto m = convs.membership(id, me, false);
      if (auto ok = authorize(Action::read, m, me); !ok) return ok.error();
      if (seq > m->last_seq) {
        return Error::invalid("seq " + std::to_string(seq) + " is past the conversation's last_seq " +
                              std::to_string(m->last_seq));
      }
      auto now = convs.mark_read(id, me, seq);
      *moved_out = now > m->read_seq;
      return now;
    });
  };
  auto result = co_await db_.run<Expected<model::Seq>>(job);
  if (result && moved) publisher_.read_moved(id, me, *result);
  co_return result;
}

Task<Expected<std::vector<std::pair<ConversationId, model::Seq>>>>
ConversationService::conversations_of(UserId me) {
  co_return co_await ends_.of(me);
}

Task<Expected<Unit>> ConversationService::block(UserId me, UserId other) {
  if (other == me) co_return Error::invalid("user_id must be another user");
  auto job = [me, other](store::Connection& c) {
    return store::transact(c, [&](Transaction& tx) -> Expected<Unit> {
      if (!ConversationStore(tx).user_exists(other)) return user_not_found(other);
      store::BlockStore(tx).block(me, other);
      return Unit{};
    });
  };
  co_return co_await db_.run<Expected<Unit>>(job);
}

Task<Expected<Unit>> ConversationService::unblock(UserId me, UserId other) {
  auto job = [me, other](store::Connection& c) {
    return store::transact(c, [&](Transaction& tx) -> Expected<Unit> {
      store::BlockStore(tx).unblock(me, other);
      return Unit{};
    });
  };
  co_return co_await db_.run<Expected<Unit>>(job);
}

Task<Expected<std::vector<model::Block>>> ConversationService::blocks(UserId me) {
  auto job = [me](store::Connection& c) {
    return store::transact(c, [&](Transaction& tx) -> Expected<std::vector<model::Block>> {
      return store::BlockStore(tx).list(me);
    });
  };
  co_return co_await db_.run<Expected<std::vector<model::Block>>>(job);
}

}  // namespace chatd::domain
