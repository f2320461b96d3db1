// Minimal type-list algorithms, written as flat folds rather than deep recursion (compile time).
#pragma once

#include <cstddef>
#include <tuple>
#include <type_traits>

namespace xfuse {

template <class... T>
struct type_list {
    static constexpr std::size_t size = sizeof...(T);
};

namespace detail {

template <class List, class T>
struct contains;
template <class... Ts, class T>
struct contains<type_list<Ts...>, T> : std::bool_constant<(std::is_same_v<Ts, T> || ...)> {};

// Position of T in the list (the list's size when absent).
template <class List, class T>
struct index_of;
template <class... Ts, class T>
struct index_of<type_list<Ts...>, T> {
    static constexpr std::size_t value = [] {
        constexpr bool matches[] = {std::is_same_v<Ts, T>..., true};
        std::size_t i = 0;
        while (!matches[i])
            ++i;
        return i;
    }();
};

template <class List, class T>
struct push_back_unique;
template <class... Ts, class T>
struct push_back_unique<type_list<Ts...>, T> {
    using type = std::conditional_t<contains<type_list<Ts...>, T>::value, type_list<Ts...>,
                                    type_list<Ts..., T>>;
};

// List, then each type of More that it does not hold yet, in More's order.
template <class List, class More>
struct append_unique {
    using type = List;
};
template <class List, class First, class... Rest>
struct append_unique<List, type_list<First, Rest...>>
    : append_unique<typename push_back_unique<List, First>::type, type_list<Rest...>> {};

template <std::size_t I, class List>
struct at;
template <std::size_t I, class... Ts>
struct at<I, type_list<Ts...>> {
    using type = std::tuple_element_t<I, std::tuple<Ts...>>;
};

}  // namespace detail

template <class List, class T>
inline constexpr bool contains_v = detail::contains<List, T>::value;

template <class List, class T>
inline constexpr std::size_t index_of_v = detail::index_of<List, T>::value;

template <std::size_t I, class List>
using at_t = typename detail::at<I, List>::type;

}  // namespace xfuse
