// /v1/attachments: uploads (streamed: the route reads its body as it
// arrives) and downloads (sent from the file, with ETag, Range and
// If-None-Match).
#pragma once

#include "chatd/api/call.hpp"
#include "chatd/domain/attachment_service.hpp"

namespace chatd::api {

class AttachmentsHandler {
 public:
  explicit AttachmentsHandler(domain::AttachmentService& attachments)
      : attachments_(attachments) {}
  // Routes: see src/api/routes.cpp.
  Task<Response> upload(Call call);
  Task<Response> download(Call call);

 private:
  domain::AttachmentService& attachments_;
};

}  // namespace chatd::api
