// A first-in first-out queue that holds no memory while empty.
//
// For per-connection queues: an idle socket's queues are empty nearly all
// the time, and std::deque allocates its map and a 512-byte node as soon as
// it is constructed (libstdc++), which made four of them about 2.3 KB of
// every idle WebSocket. This one is a vector with a read index: pushing
// appends, popping moves the index, and the storage is released whenever the
// queue empties (and compacted when the consumed half dominates).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace chatd {

template <class T>
class Fifo {
 public:
  bool empty() const { return head_ == items_.size(); }
  std::size_t size() const { return items_.size() - head_; }

  T& front() { return items_[head_]; }
  const T& front() const { return items_[head_]; }
  T& operator[](std::size_t i) { return items_[head_ + i]; }
  const T& operator[](std::size_t i) const { return items_[head_ + i]; }

  void push_back(T value) { items_.push_back(std::move(value)); }

  void pop_front() {
    items_[head_] = T();  // release what it holds now, not at compaction
    if (++head_ == items_.size()) {
      clear();
    } else if (head_ >= 32 && head_ * 2 >= items_.size()) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }

  // Empties the queue and gives its storage back.
  void clear() {
    std::vector<T>().swap(items_);
    head_ = 0;
  }

 private:
  std::vector<T> items_;
  std::size_t head_ = 0;
};

}  // namespace chatd
