// Coroutines on IO threads awaiting work done elsewhere: when_done (any
// callback) and run_on (a job on a WorkerPool, built on when_done).
#pragma once

// g++ 12 in C++20: asio's awaitable.hpp needs std::exchange before it is parsed.
#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>

#include "chatd/core/failures.hpp"
#include "chatd/core/worker_pool.hpp"

namespace chatd {

template <class T>
using Task = boost::asio::awaitable<T>;

// A callback's outcome: the exception that failed the work, or its result.
// Called once, on any thread.
template <class R>
using Completion = std::function<void(std::exception_ptr, std::optional<R>)>;

namespace detail {
template <class R, class Handler>
void complete(std::shared_ptr<Handler> h, std::exception_ptr ep, std::optional<R> r) {
  auto ex = boost::asio::get_associated_executor(*h);
  boost::asio::post(ex, [h, ep, r = std::move(r)]() mutable {
    (*h)(ep, r ? std::move(*r) : R{});
  });
}
}  // namespace detail

// The one bridge from callbacks to coroutines: `co_await when_done<R>(start)`
// calls start(Completion<R>) at once, and the coroutine resumes on its own
// executor when the completion is called: with the result, or by throwing the
// exception it was given. R must be default-constructible and movable.
//
// g++ 12 relocates some non-trivial temporaries of a co_await expression
// bitwise (a captured short std::string then frees a dangling pointer). So:
// callers pass the job as a named local (never a lambda written inline in the
// co_await), and it crosses asio's `initiate` coroutine only as a raw
// pointer, owned again inside.
template <class R, class Start>
Task<R> when_done(Start&& start) {
  using S = std::decay_t<Start>;
  auto* job = new S(std::forward<Start>(start));
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                     void(std::exception_ptr, R)>(
      [](auto handler, S* raw) {
        std::unique_ptr<S> owned(raw);
        using H = decltype(handler);
        auto h = std::make_shared<H>(std::move(handler));
        (*owned)(Completion<R>([h](std::exception_ptr ep, std::optional<R> r) {
          detail::complete<R>(h, ep, std::move(r));
        }));
      },
      boost::asio::use_awaitable, job);
}

namespace detail {
// Runs fn on a worker and hands its outcome (the exception, or the result)
// to `done`.
template <class R, class F>
auto job_for(std::shared_ptr<F> f, Completion<R> done) {
  return [f, done](std::size_t worker) {
    std::optional<R> r;
    std::exception_ptr ep;
    try {
      r.emplace((*f)(worker));
    } catch (...) {
      ep = std::current_exception();
    }
    done(ep, std::move(r));
  };
}
}  // namespace detail

// `co_await run_on<R>(pool, fn)` runs fn(std::size_t worker) on a worker and
// resumes with its result or the exception it threw. A full pool throws
// Overloaded (core/failures.hpp) into the awaiting coroutine.
template <class R, class F>
Task<R> run_on(WorkerPool& pool, F&& fn) {
  auto f = std::make_shared<std::decay_t<F>>(std::forward<F>(fn));
  auto start = [&pool, f](Completion<R> done) {
    bool queued = pool.try_post(detail::job_for<R>(f, done));
    if (!queued) done(std::make_exception_ptr(Overloaded("work queue full")), std::nullopt);
  };
  return when_done<R>(std::move(start));
}

// A job started on a pool now and awaited later, so that a coroutine can
// overlap it with its own waiting (an upload reads the next chunk from the
// client while the disk pool writes the last one):
//   auto job = co_await start_on<R>(pool, fn);  ...  R r = co_await finish(job);
// One awaiter; the coroutine's executor must be single-threaded (an IO
// thread's io_context), which is where the job's completion is delivered.
template <class R>
struct Started {
  explicit Started(boost::asio::any_io_executor ex) : wake(ex, boost::asio::steady_timer::time_point::max()) {}
  boost::asio::steady_timer wake;
  bool done = false;
  std::optional<R> value;
  std::exception_ptr error;
};

template <class R, class F>
Task<std::shared_ptr<Started<R>>> start_on(WorkerPool& pool, F&& fn) {
  auto ex = co_await boost::asio::this_coro::executor;
  auto state = std::make_shared<Started<R>>(ex);
  auto f = std::make_shared<std::decay_t<F>>(std::forward<F>(fn));
  Completion<R> finish_with = [state, ex](std::exception_ptr ep, std::optional<R> r) {
    boost::asio::post(ex, [state, ep, r = std::move(r)]() mutable {
      state->error = ep;
      state->value = std::move(r);
      state->done = true;
      state->wake.cancel();
    });
  };
  if (!pool.try_post(detail::job_for<R>(f, finish_with))) throw Overloaded("work queue full");
  co_return state;
}

template <class R>
Task<R> finish(std::shared_ptr<Started<R>> state) {
  while (!state->done) {
    boost::system::error_code ec;
    co_await state->wake.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
  if (state->error) std::rethrow_exception(state->error);
  co_return std::move(*state->value);
}

}  // namespace chatd
