// chatd's own request and response types. The network layer converts Beast's
// messages to and from these, so nothing above it depends on Beast.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chatd {
class ByteSource;
class FileHandle;
}  // namespace chatd

namespace chatd::http {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;   // "GET", "POST", ...
  std::string target;   // as sent: path and query
  std::string path;     // target up to '?'
  Fields query;         // decoded query parameters, in order
  Fields headers;       // names lower-cased
  std::string body;
  // Routes registered as streaming (Dispatcher::route_streaming) get the
  // body here as it arrives, and `body` stays empty. Valid while the
  // handler runs.
  ByteSource* body_source = nullptr;
  std::string request_id;
  std::string remote;   // peer address, for logs

  std::optional<std::string> header(std::string_view lower_name) const;
  std::optional<std::string> query_param(std::string_view name) const;
  // The token of `Authorization: Bearer <token>`, or empty.
  std::string bearer_token() const;
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  Fields headers;
  bool close = false;  // ask the connection to close after this response
  // A body streamed from a file instead of `body`: `file_length` bytes from
  // `file_offset` (the network layer sends them without holding them).
  std::shared_ptr<FileHandle> file;
  std::uint64_t file_offset = 0;
  std::uint64_t file_length = 0;
};

// Splits a target into path and decoded query parameters. False when the
// query's percent-encoding is malformed.
bool parse_target(std::string_view target, std::string& path, Fields& query);
// Decodes %XX (and '+' as space when `plus_is_space`); nullopt on bad escapes.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space);

}  // namespace chatd::http
