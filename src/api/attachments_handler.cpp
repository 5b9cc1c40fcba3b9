#include "chatd/api/attachments_handler.hpp"

#include "chatd/api/json_io.hpp"
#include "chatd/http/errors.hpp"
#include "chatd/http/ranges.hpp"

namespace chatd::api {

using http::error_response;

Task<Response> AttachmentsHandler::upload(Call call) {
  if (!call.request.body_source) {
    co_return error_response(Error::invalid("the upload has no body"));
  }
  Expected<model::Attachment> stored = Error::invalid("the upload was cut off");
  try {
    stored = co_await attachments_.upload(call.caller.id,
                                          call.request.header("content-type").value_or(""),
                                          *call.request.body_source);
  } catch (const BodyAborted& e) {
    // The client went away or stalled: nobody may be left to read this.
    auto out = error_response(Error::invalid(std::string("the upload was cut off: ") + e.what()));
    out.close = true;
    co_return out;
  }
  if (!stored) co_return error_response(stored.error());
  co_return raw_json_response(201, "{\"attachment\":" + stored->json + "}");
}

Task<Response> AttachmentsHandler::download(Call call) {
  auto id = call.id("id", "attachment id");
  if (!id) co_return error_response(id.error());
  auto found = co_await attachments_.open(call.caller.id, *id);
  if (!found) co_return error_response(found.error());
  const auto& a = found->attachment;
  auto size = found->file->size();

  Response out;
  std::string etag = "\"" + a.sha256 + "\"";
  out.headers.emplace_back("ETag", etag);
  out.headers.emplace_back("Cache-Control", "private");
  out.headers.emplace_back("X-Content-Type-Options", "nosniff");
  // Opened directly, an attachment is inert: no scripts, no plugins, no forms.
  out.headers.emplace_back("Content-Security-Policy", "default-src 'none'; sandbox");
  out.headers.emplace_back("Accept-Ranges", "bytes");
  if (auto tags = call.request.header("if-none-match"); tags && http::none_match(*tags, etag)) {
    out.status = 304;
    out.content_type.clear();
    co_return out;
  }
  out.content_type = a.mime;
  out.file = found->file;
  out.file_offset = 0;
  out.file_length = size;
  auto range = call.request.header("range");
  // If-Range: a range only of this very content (else everything).
  if (auto if_range = call.request.header("if-range"); if_range && *if_range != etag) {
    range.reset();
  }
  if (range) {
    auto answer = http::byte_range(*range, size);
    if (answer.outcome == http::RangeOutcome::unsatisfiable) {
      auto refused = error_response({ErrorKind::range_not_satisfiable, "range_not_satisfiable",
                                     "the attachment has " + std::to_string(size) + " bytes"});
      refused.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
      co_return refused;
    }
    if (answer.outcome == http::RangeOutcome::partial) {
      out.status = 206;
      out.file_offset = answer.range.first;
      out.file_length = answer.range.length;
      out.headers.emplace_back("Content-Range",
                               "bytes " + std::to_string(answer.range.first) + "-" +
                                   std::to_string(answer.range.first + answer.range.length - 1) +
                                   "/" + std::to_string(size));
    }
  }
  co_return out;
}

}  // namespace chatd::api
