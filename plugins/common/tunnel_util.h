/*
 * Copyright (C) 2026 The tunnel-nat authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 2 of the License, or (at your
 * option) any later version.  See <http://www.fsf.org/copyleft/gpl.txt>.
 *
 * This program is distributed in the hope that it will be useful, but
 * WITHOUT ANY WARRANTY; without even the implied warranty of MERCHANTABILITY
 * or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU General Public License
 * for more details.
 */

/**
 * @defgroup tunnel_util tunnel_util
 * @{ @ingroup tunnel_common
 */

#ifndef TUNNEL_UTIL_H_
#define TUNNEL_UTIL_H_

#include <library.h>
#include <collections/array.h>

/**
 * Netmask in host byte order for a prefix length.
 */
static inline uint32_t tunnel_mask(uint8_t prefixlen)
{
	return prefixlen ? 0xffffffffU << (32 - prefixlen) : 0;
}

/**
 * array_create() with room reserved for up to count elements.
 *
 * array_create()'s reserve is an uint8_t: a larger count would wrap
 * (256 to 0, 10000 to 16). Up to UINT8_MAX elements are reserved; beyond
 * that the array grows as elements are inserted (by one each time, which
 * glibc's realloc() makes cheap: about 5 ms for 50,000 pointers).
 *
 * @param esize			element size, 0 for pointers
 * @param count			number of elements expected
 * @return				array
 */
static inline array_t *tunnel_array_create(u_int esize, u_int count)
{
	return array_create(esize, count > UINT8_MAX ? UINT8_MAX : count);
}

/**
 * Parse an IPv4 address or prefix "a.b.c.d[/n]" strictly.
 *
 * @param str			string to parse
 * @param addr			parsed address, host byte order
 * @param prefixlen		parsed prefix length, 32 if none given
 * @return				NULL on success, otherwise a static error reason
 */
const char *tunnel_parse_prefix(const char *str, uint32_t *addr,
								uint8_t *prefixlen);

/**
 * Parse a yes/no value as charon does (yes, true, 1, no, false, 0).
 *
 * @param value			string to parse
 * @param out			parsed value
 * @return				FALSE if the value is neither
 */
bool tunnel_parse_yes_no(const char *value, bool *out);

/**
 * Check if a settings key is one of a list.
 *
 * @param key			key to look up
 * @param keys			known keys
 * @param count			number of known keys
 * @return				TRUE if key is among keys
 */
bool tunnel_key_known(const char *key, const char **keys, int count);

/**
 * Default of tunnel-route's mark setting, VALUE/MASK
 */
#define TUNNEL_ROUTE_DEFAULT_MARK 0x4000000
#define TUNNEL_ROUTE_DEFAULT_MASK 0xc000000

/**
 * Parse an unsigned number (decimal or 0x hex) within limits.
 *
 * @param str			string to parse
 * @param min			least value
 * @param max			greatest value
 * @param out			parsed value
 * @return				FALSE if not a number within the limits
 */
bool tunnel_parse_u32(const char *str, uint64_t min, uint64_t max,
					  uint32_t *out);

/**
 * Parse a mark "VALUE[/MASK]", non-zero, no bit of VALUE outside MASK (the
 * mask is VALUE if not given).
 *
 * @param str			string to parse
 * @param mark			parsed value
 * @param mask			parsed mask
 * @return				FALSE if invalid
 */
bool tunnel_parse_mark(const char *str, uint32_t *mark, uint32_t *mask);

/**
 * Get the mask of tunnel-route's mark setting (charon.plugins.tunnel-route.
 * mark), parsed as tunnel-route does, whether or not tunnel-route is loaded.
 *
 * @param settings		settings to read
 * @param ns			namespace, usually "charon"
 * @param mask			the mask, the default one if the setting is unset
 * @return				FALSE if the setting is invalid (mask unchanged)
 */
bool tunnel_route_mark_mask(settings_t *settings, const char *ns,
							uint32_t *mask);

/**
 * Check if a name is usable as an nftables table name: 1 to 64 letters,
 * digits or '_', starting with a letter.
 */
bool tunnel_nft_name_valid(const char *name);

/**
 * Print an IPv4 address range (host byte order), as a prefix where it is one.
 *
 * @return				number of characters printed, as snprintf()
 */
int tunnel_range_str(char *buf, size_t len, uint32_t from, uint32_t to);

/**
 * Split an IPv4 range into the fewest prefixes that cover it exactly.
 *
 * @param from			first address, host byte order
 * @param to			last address
 * @param cb			called with each prefix (network address, length)
 * @param data			user data for cb
 */
void tunnel_range_to_prefixes(uint32_t from, uint32_t to,
							  void (*cb)(void *data, uint32_t net, uint8_t len),
							  void *data);

/**
 * Hash a CHILD_SA unique id used as hashtable key (cast to void*).
 */
u_int tunnel_id_hash(const void *key);

/**
 * Compare two CHILD_SA unique ids used as hashtable keys.
 */
bool tunnel_id_equals(const void *a, const void *b);

#endif /** TUNNEL_UTIL_H_ @}*/
