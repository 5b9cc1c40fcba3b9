#include "chatd/realtime/notice.hpp"

#include <charconv>

namespace chatd::realtime {

Notice Notice::events(model::ConversationId c, model::Seq from, model::Seq to) {
  Notice n;
  n.kind = Kind::events, n.conversation = c, n.from = from, n.to = to;
  return n;
}
Notice Notice::read(model::ConversationId c, model::UserId user, model::Seq seq) {
  Notice n;
  n.kind = Kind::read, n.conversation = c, n.user = user, n.to = seq;
  return n;
}
Notice Notice::typing(model::ConversationId c, model::UserId user) {
  Notice n;
  n.kind = Kind::typing, n.conversation = c, n.user = user;
  return n;
}
Notice Notice::presence(model::UserId user, bool online) {
  Notice n;
  n.kind = Kind::presence, n.user = user, n.online = online;
  return n;
}
Notice Notice::revoked(std::string token_hash) {
  Notice n;
  n.kind = Kind::revoked, n.token_hash = std::move(token_hash);
  return n;
}

Notice Notice::standing(model::ConversationId c, model::UserId user) {
  Notice n;
  n.kind = Kind::standing, n.conversation = c, n.user = user;
  return n;
}

Notice Notice::visibility(model::UserId user, bool shown) {
  Notice n;
  n.kind = Kind::visibility, n.user = user, n.online = shown;
  return n;
}

namespace {
std::string join(char tag, std::initializer_list<std::int64_t> numbers) {
  std::string out(1, tag);
  for (auto v : numbers) {
    out += ':';
    out += std::to_string(v);
  }
  return out;
}

// Exactly `count` non-negative numbers separated by ':'.
bool numbers(std::string_view text, std::size_t count, std::int64_t* out) {
  for (std::size_t i = 0; i < count; ++i) {
    auto colon = text.find(':');
    bool last = i + 1 == count;
    if (last != (colon == std::string_view::npos)) return false;
    auto part = text.substr(0, colon);
    if (part.empty()) return false;
    auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), out[i]);
    if (ec != std::errc() || ptr != part.data() + part.size() || out[i] < 0) return false;
    if (!last) text.remove_prefix(colon + 1);
  }
  return true;
}
}  // namespace

std::string encode(const Notice& n) {
  switch (n.kind) {
    case Notice::Kind::events: return join('e', {n.conversation, n.from, n.to});
    case Notice::Kind::read: return join('r', {n.conversation, n.user, n.to});
    case Notice::Kind::typing: return join('t', {n.conversation, n.user});
    case Notice::Kind::presence: return join('p', {n.user, n.online ? 1 : 0});
    case Notice::Kind::revoked: return "x:" + n.token_hash;
    case Notice::Kind::standing: return join('s', {n.conversation, n.user});
    case Notice::Kind::visibility: return join('v', {n.user, n.online ? 1 : 0});
  }
  return {};
}

std::optional<Notice> decode(std::string_view text) {
  if (text.size() < 3 || text[1] != ':') return std::nullopt;
  char tag = text[0];
  text.remove_prefix(2);
  std::int64_t v[3] = {0, 0, 0};
  switch (tag) {
    case 'e':
      if (!numbers(text, 3, v) || v[1] > v[2]) return std::nullopt;
      return Notice::events(v[0], v[1], v[2]);
    case 'r':
      if (!numbers(text, 3, v)) return std::nullopt;
      return Notice::read(v[0], v[1], v[2]);
    case 't':
      if (!numbers(text, 2, v)) return std::nullopt;
      return Notice::typing(v[0], v[1]);
    case 'p':
      if (!numbers(text, 2, v) || v[1] > 1) return std::nullopt;
      return Notice::presence(v[0], v[1] == 1);
    case 's':
      if (!numbers(text, 2, v)) return std::nullopt;
      return Notice::standing(v[0], v[1]);
    case 'v':
      if (!numbers(text, 2, v) || v[1] > 1) return std::nullopt;
      return Notice::visibility(v[0], v[1] == 1);
    case 'x':
      // A token hash is hex; anything else is not ours.
      for (char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
      }
      return Notice::revoked(std::string(text));
    default:
      return std::nullopt;
  }
}

}  // namespace chatd::realtime
