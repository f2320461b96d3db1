// A zero-initialised float buffer aligned to the SIMD register size: parameters and scratch.
#pragma once

#include <algorithm>
#include <cstddef>
#include <new>
#include <utility>

#include "../core/config.hpp"

namespace xfuse {

class aligned_buffer {
  public:
    aligned_buffer() = default;
    explicit aligned_buffer(std::size_t size)
        : data_(size ? static_cast<float*>(::operator new[](size * sizeof(float),
                                                            std::align_val_t{buffer_alignment}))
                     : nullptr),
          size_(size) {
        std::fill_n(data_, size_, 0.0f);
    }
    aligned_buffer(aligned_buffer&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
    aligned_buffer& operator=(aligned_buffer&& other) noexcept {
        std::swap(data_, other.data_);
        std::swap(size_, other.size_);
        return *this;
    }
    aligned_buffer(const aligned_buffer& other) : aligned_buffer(other.size_) {
        std::copy_n(other.data_, size_, data_);
    }
    aligned_buffer& operator=(const aligned_buffer& other) {
        aligned_buffer copy(other);
        return *this = std::move(copy);
    }
    ~aligned_buffer() {
        if (data_)
            ::operator delete[](data_, std::align_val_t{buffer_alignment});
    }

    float* data() noexcept { return data_; }
    const float* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }

  private:
    float* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace xfuse
