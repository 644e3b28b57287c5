#pragma once
// Relations the controller's core keeps from both sides at once, so that the
// two sides cannot disagree: which engine runs a task and which tasks an
// engine runs; which engines hold a cached object and which objects an
// engine holds. consistent() checks both sides against each other (the
// core's check_invariants()).

#include <cstddef>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace cannery::detail {

// Each item has at most one owner.
template <class Item, class Owner>
class ManyToOne {
 public:
  // Links `item` to `owner`, unlinking it from any other owner first.
  void link(Item item, Owner owner) {
    auto [it, added] = owner_.try_emplace(item, owner);
    if (!added) {
      if (it->second == owner) return;
      remove_from(it->second, item);
      it->second = owner;
    }
    items_[owner].insert(item);
  }
  std::optional<Owner> owner_of(Item item) const {
    auto it = owner_.find(item);
    return it == owner_.end() ? std::nullopt : std::optional<Owner>(it->second);
  }
  bool unlink(Item item) {
    auto it = owner_.find(item);
    if (it == owner_.end()) return false;
    remove_from(it->second, item);
    owner_.erase(it);
    return true;
  }
  // Unlinks and returns every item of `owner`.
  std::vector<Item> unlink_owner(Owner owner) {
    std::vector<Item> out;
    auto items = items_.find(owner);
    if (items == items_.end()) return out;
    out.assign(items->second.begin(), items->second.end());
    for (Item item : out)
      owner_.erase(item);
    items_.erase(items);
    return out;
  }
  std::size_t count(Owner owner) const {
    auto items = items_.find(owner);
    return items == items_.end() ? 0 : items->second.size();
  }
  template <class F>
  void for_each(F&& f) const {
    for (const auto& [item, owner] : owner_)
      f(item, owner);
  }
  bool consistent() const {
    std::size_t linked = 0;
    for (const auto& [owner, items] : items_) {
      for (const Item& item : items) {
        auto it = owner_.find(item);
        if (it == owner_.end() || it->second != owner) return false;
      }
      linked += items.size();
    }
    return linked == owner_.size();
  }

 private:
  // An owner's set stays when it empties (until unlink_owner): an engine
  // with one task at a time would otherwise make and free a set per task.
  void remove_from(Owner owner, Item item) { items_.find(owner)->second.erase(item); }

  std::unordered_map<Item, Owner> owner_;
  std::unordered_map<Owner, std::unordered_set<Item>> items_;
};

// Any number on both sides.
template <class A, class B>
class ManyToMany {
 public:
  void link(A a, B b) {
    by_a_[a].insert(b);
    by_b_[b].insert(a);
  }
  bool linked(A a, B b) const {
    auto it = by_a_.find(a);
    return it != by_a_.end() && it->second.count(b) != 0;
  }
  void unlink(A a, B b) {
    auto here = by_a_.find(a);
    if (here == by_a_.end() || here->second.erase(b) == 0) return;
    if (here->second.empty()) by_a_.erase(here);
    auto there = by_b_.find(b);
    there->second.erase(a);
    if (there->second.empty()) by_b_.erase(there);
  }
  // Every B linked to `a`.
  std::vector<B> of_a(A a) const {
    auto it = by_a_.find(a);
    return it == by_a_.end() ? std::vector<B>{}
                             : std::vector<B>(it->second.begin(), it->second.end());
  }
  // Unlinks and returns every B linked to `a`.
  std::vector<B> unlink_a(A a) { return unlink_all(a, by_a_, by_b_); }
  // Unlinks and returns every A linked to `b`.
  std::vector<A> unlink_b(B b) { return unlink_all(b, by_b_, by_a_); }
  template <class F>
  void for_each(F&& f) const {
    for (const auto& [a, bs] : by_a_)
      for (const B& b : bs)
        f(a, b);
  }
  bool consistent() const { return mirrors(by_a_, by_b_) && mirrors(by_b_, by_a_); }

 private:
  template <class K, class V>
  static std::vector<V> unlink_all(K key, std::unordered_map<K, std::unordered_set<V>>& here,
                                   std::unordered_map<V, std::unordered_set<K>>& there) {
    std::vector<V> out;
    auto it = here.find(key);
    if (it == here.end()) return out;
    out.assign(it->second.begin(), it->second.end());
    here.erase(it);
    for (const V& v : out) {
      auto back = there.find(v);
      back->second.erase(key);
      if (back->second.empty()) there.erase(back);
    }
    return out;
  }
  template <class K, class V>
  static bool mirrors(const std::unordered_map<K, std::unordered_set<V>>& here,
                      const std::unordered_map<V, std::unordered_set<K>>& there) {
    for (const auto& [key, values] : here) {
      if (values.empty()) return false;
      for (const V& v : values) {
        auto back = there.find(v);
        if (back == there.end() || back->second.count(key) == 0) return false;
      }
    }
    return true;
  }

  std::unordered_map<A, std::unordered_set<B>> by_a_;
  std::unordered_map<B, std::unordered_set<A>> by_b_;
};

}  // namespace cannery::detail
