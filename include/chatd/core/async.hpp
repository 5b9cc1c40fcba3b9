// The bridge between coroutines on IO threads and blocking work on a
// WorkerPool: `co_await run_on<R>(pool, fn)` runs fn on a worker and resumes
// the coroutine on its own executor with the result (or the exception fn threw).
#pragma once

// g++ 12 in C++20: asio's awaitable.hpp needs std::exchange before it is parsed.
#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>

#include "chatd/core/failures.hpp"
#include "chatd/core/worker_pool.hpp"

namespace chatd {

template <class T>
using Task = boost::asio::awaitable<T>;

// A full pool throws Overloaded (core/failures.hpp) into the awaiting coroutine.

namespace detail {
template <class R, class Handler>
void complete(std::shared_ptr<Handler> h, std::exception_ptr ep, std::optional<R> r) {
  auto ex = boost::asio::get_associated_executor(*h);
  boost::asio::post(ex, [h, ep, r = std::move(r)]() mutable {
    (*h)(ep, r ? std::move(*r) : R{});
  });
}
}  // namespace detail

// Fn: R(std::size_t worker). R must be default-constructible and movable.
//
// g++ 12 relocates some non-trivial temporaries of a co_await expression
// bitwise (a captured short std::string then frees a dangling pointer). So:
// callers pass the job as a named local (never a lambda written inline in the
// co_await), it is taken by reference, and it crosses asio's `initiate`
// coroutine only as a raw pointer, owned again inside.
template <class R, class F>
Task<R> run_on(WorkerPool& pool, F&& fn) {
  using Fn = std::decay_t<F>;
  auto* job = new Fn(std::forward<F>(fn));
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                     void(std::exception_ptr, R)>(
      [&pool](auto handler, Fn* raw) {
        std::unique_ptr<Fn> owned(raw);
        using H = decltype(handler);
        auto h = std::make_shared<H>(std::move(handler));
        std::shared_ptr<Fn> f(std::move(owned));
        bool queued = pool.try_post([h, f](std::size_t worker) {
          std::optional<R> r;
          std::exception_ptr ep;
          try {
            r.emplace((*f)(worker));
          } catch (...) {
            ep = std::current_exception();
          }
          detail::complete<R>(h, ep, std::move(r));
        });
        if (!queued) {
          detail::complete<R>(h, std::make_exception_ptr(Overloaded("work queue full")),
                              std::nullopt);
        }
      },
      boost::asio::use_awaitable, job);
}

}  // namespace chatd
