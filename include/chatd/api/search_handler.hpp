// /v1/search/messages: message search over the caller's conversations.
#pragma once

#include "chatd/api/call.hpp"
#include "chatd/domain/search_service.hpp"

namespace chatd::api {

class SearchHandler {
 public:
  explicit SearchHandler(domain::SearchService& search) : search_(search) {}
  // Routes: see src/api/routes.cpp.
  Task<Response> messages(Call call);

 private:
  domain::SearchService& search_;
};

}  // namespace chatd::api
