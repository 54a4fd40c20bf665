/*
 * The libsrtp 3 calls of mediasoup-worker (include/srtp.h) on libsrtp 2. This file sees libsrtp 2's own header
 * only, so srtp_protect and friends below are libsrtp 2's in-place functions.
 *
 * Not supported, because mediasoup does not use them: MKI (master key identifiers) and several keys per policy;
 * asking for either returns srtp_err_status_bad_param rather than silently ignoring it.
 */
#include <srtp2/srtp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BUFFER_TOO_SMALL ((srtp_err_status_t)28) /* libsrtp 3's srtp_err_status_buffer_small */

/* A libsrtp 3 policy handle: libsrtp 2's policy struct and the master key and salt it points to. */
struct srtp3_on_srtp2_policy {
	srtp_policy_t v2;
	unsigned char key_and_salt[SRTP_MAX_KEY_LEN];
};
typedef struct srtp3_on_srtp2_policy *handle_t;

/* The prototypes of include/srtp.h, repeated because that header cannot be included next to libsrtp 2's. */
srtp_err_status_t srtp3_on_srtp2_policy_create(handle_t *policy);
void srtp3_on_srtp2_policy_destroy(handle_t policy);
srtp_err_status_t srtp3_on_srtp2_policy_set_ssrc(handle_t policy, srtp_ssrc_t ssrc);
srtp_err_status_t srtp3_on_srtp2_policy_set_profile(handle_t policy, srtp_profile_t profile);
srtp_err_status_t srtp3_on_srtp2_policy_add_key(handle_t policy, const uint8_t *key, size_t key_len,
                                                const uint8_t *salt, size_t salt_len, const uint8_t *mki,
                                                size_t mki_len);
srtp_err_status_t srtp3_on_srtp2_policy_set_allow_repeat_tx(handle_t policy, bool allow);
srtp_err_status_t srtp3_on_srtp2_policy_set_window_size(handle_t policy, size_t window_size);
srtp_err_status_t srtp3_on_srtp2_create(srtp_t *session, const handle_t policy);
srtp_err_status_t srtp3_on_srtp2_protect(srtp_t session, const uint8_t *rtp, size_t rtp_len, uint8_t *srtp,
                                         size_t *srtp_len, size_t mki_index);
srtp_err_status_t srtp3_on_srtp2_unprotect(srtp_t session, const uint8_t *srtp, size_t srtp_len, uint8_t *rtp,
                                           size_t *rtp_len);
srtp_err_status_t srtp3_on_srtp2_protect_rtcp(srtp_t session, const uint8_t *rtcp, size_t rtcp_len,
                                              uint8_t *srtcp, size_t *srtcp_len, size_t mki_index);
srtp_err_status_t srtp3_on_srtp2_unprotect_rtcp(srtp_t session, const uint8_t *srtcp, size_t srtcp_len,
                                                uint8_t *rtcp, size_t *rtcp_len);

srtp_err_status_t srtp3_on_srtp2_policy_create(handle_t *policy)
{
	if (!policy)
		return srtp_err_status_bad_param;
	*policy = calloc(1, sizeof(**policy));
	if (!*policy)
		return srtp_err_status_alloc_fail;
	(*policy)->v2.ssrc.type = ssrc_undefined;
	return srtp_err_status_ok;
}

void srtp3_on_srtp2_policy_destroy(handle_t policy)
{
	if (!policy)
		return;
	/* The master key must not linger in freed memory. */
	memset(policy->key_and_salt, 0, sizeof(policy->key_and_salt));
	free(policy);
}

srtp_err_status_t srtp3_on_srtp2_policy_set_ssrc(handle_t policy, srtp_ssrc_t ssrc)
{
	if (!policy)
		return srtp_err_status_bad_param;
	policy->v2.ssrc = ssrc;
	return srtp_err_status_ok;
}

srtp_err_status_t srtp3_on_srtp2_policy_set_profile(handle_t policy, srtp_profile_t profile)
{
	if (!policy)
		return srtp_err_status_bad_param;
	srtp_err_status_t status = srtp_crypto_policy_set_from_profile_for_rtp(&policy->v2.rtp, profile);
	if (status != srtp_err_status_ok)
		return status;
	return srtp_crypto_policy_set_from_profile_for_rtcp(&policy->v2.rtcp, profile);
}

/* libsrtp 2 takes the master key and salt as one buffer, key first. */
srtp_err_status_t srtp3_on_srtp2_policy_add_key(handle_t policy, const uint8_t *key, size_t key_len,
                                                const uint8_t *salt, size_t salt_len, const uint8_t *mki,
                                                size_t mki_len)
{
	(void)mki;
	if (!policy || !key || (salt_len > 0 && !salt))
		return srtp_err_status_bad_param;
	if (mki_len > 0 || policy->v2.key)
		return srtp_err_status_bad_param; /* MKI, or a second key: see the top of this file */
	if (key_len > sizeof(policy->key_and_salt) || salt_len > sizeof(policy->key_and_salt) - key_len)
		return srtp_err_status_bad_param;
	memcpy(policy->key_and_salt, key, key_len);
	if (salt_len > 0)
		memcpy(policy->key_and_salt + key_len, salt, salt_len);
	policy->v2.key = policy->key_and_salt;
	return srtp_err_status_ok;
}

srtp_err_status_t srtp3_on_srtp2_policy_set_allow_repeat_tx(handle_t policy, bool allow)
{
	if (!policy)
		return srtp_err_status_bad_param;
	policy->v2.allow_repeat_tx = allow;
	return srtp_err_status_ok;
}

srtp_err_status_t srtp3_on_srtp2_policy_set_window_size(handle_t policy, size_t window_size)
{
	if (!policy)
		return srtp_err_status_bad_param;
	policy->v2.window_size = (unsigned long)window_size;
	return srtp_err_status_ok;
}

srtp_err_status_t srtp3_on_srtp2_create(srtp_t *session, const handle_t policy)
{
	if (!policy)
		return srtp_create(session, NULL); /* a session without streams, as in libsrtp 3 */
	if (!policy->v2.key)
		return srtp_err_status_bad_param;
	policy->v2.next = NULL;
	return srtp_create(session, &policy->v2);
}

/*
 * libsrtp 2 transforms a packet in place and may append up to `trailer` bytes (authentication tag); libsrtp 3
 * reads one buffer and writes another, told its capacity. Copy first (the two may be the same buffer: mediasoup
 * decrypts in place), then transform the copy.
 */
typedef srtp_err_status_t (*in_place_t)(srtp_t, void *, int *);

static srtp_err_status_t transform(in_place_t in_place, size_t trailer, srtp_t session, const uint8_t *in,
                                   size_t in_len, uint8_t *out, size_t *out_len)
{
	if (!session || !in || !out || !out_len)
		return srtp_err_status_bad_param;
	if (in_len > (size_t)INT32_MAX - trailer)
		return srtp_err_status_bad_param;
	if (*out_len < in_len + trailer)
		return BUFFER_TOO_SMALL;
	if (out != in)
		memmove(out, in, in_len);
	int len = (int)in_len;
	srtp_err_status_t status = in_place(session, out, &len);
	if (status == srtp_err_status_ok)
		*out_len = (size_t)len;
	return status;
}

srtp_err_status_t srtp3_on_srtp2_protect(srtp_t session, const uint8_t *rtp, size_t rtp_len, uint8_t *srtp,
                                         size_t *srtp_len, size_t mki_index)
{
	if (mki_index != 0)
		return srtp_err_status_bad_param;
	return transform(srtp_protect, SRTP_MAX_TRAILER_LEN, session, rtp, rtp_len, srtp, srtp_len);
}

srtp_err_status_t srtp3_on_srtp2_unprotect(srtp_t session, const uint8_t *srtp, size_t srtp_len, uint8_t *rtp,
                                           size_t *rtp_len)
{
	return transform(srtp_unprotect, 0, session, srtp, srtp_len, rtp, rtp_len);
}

srtp_err_status_t srtp3_on_srtp2_protect_rtcp(srtp_t session, const uint8_t *rtcp, size_t rtcp_len,
                                              uint8_t *srtcp, size_t *srtcp_len, size_t mki_index)
{
	if (mki_index != 0)
		return srtp_err_status_bad_param;
	/* SRTCP adds the 4-byte E flag and index before the tag. */
	return transform(srtp_protect_rtcp, SRTP_MAX_TRAILER_LEN + 4, session, rtcp, rtcp_len, srtcp, srtcp_len);
}

srtp_err_status_t srtp3_on_srtp2_unprotect_rtcp(srtp_t session, const uint8_t *srtcp, size_t srtcp_len,
                                                uint8_t *rtcp, size_t *rtcp_len)
{
	return transform(srtp_unprotect_rtcp, 0, session, srtcp, srtcp_len, rtcp, rtcp_len);
}
