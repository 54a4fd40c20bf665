// ankerl::unordered_dense (martinus/unordered_dense) is not packaged by Debian 12. mediasoup-worker uses three of
// its names: map, set and hash. They are provided here by the standard library's unordered containers, which offer
// the same interface and stronger guarantees (references stay valid across insertions). What differs is speed and
// iteration order (unordered_dense iterates in insertion order); mediasoup's correctness depends on neither.
#ifndef SPLATCAST_UNORDERED_DENSE_ON_STD_H
#define SPLATCAST_UNORDERED_DENSE_ON_STD_H

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace ankerl::unordered_dense
{
	// unordered_dense's hash returns 64 bits and marks itself as avalanching (well mixed); mediasoup combines such
	// hashes by hand (Utils::Crypto::HashCombine), so std::hash widened to 64 bits serves.
	template<typename Value, typename = void>
	struct hash
	{
		using is_avalanching = void;

		std::uint64_t operator()(const Value& value) const
		{
			return static_cast<std::uint64_t>(std::hash<Value>{}(value));
		}
	};

	template<
	  typename Key,
	  typename Mapped,
	  typename Hash     = hash<Key>,
	  typename KeyEqual = std::equal_to<Key>,
	  typename Alloc    = std::allocator<std::pair<const Key, Mapped>>>
	using map = std::unordered_map<Key, Mapped, Hash, KeyEqual, Alloc>;

	template<
	  typename Key,
	  typename Hash     = hash<Key>,
	  typename KeyEqual = std::equal_to<Key>,
	  typename Alloc    = std::allocator<Key>>
	using set = std::unordered_set<Key, Hash, KeyEqual, Alloc>;
} // namespace ankerl::unordered_dense

#endif
