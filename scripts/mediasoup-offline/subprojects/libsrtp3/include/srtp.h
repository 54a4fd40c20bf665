/*
 * What mediasoup-worker includes as <srtp.h>: the libsrtp 3 calls it makes, on top of Debian's libsrtp 2.
 *
 * libsrtp 3 changed a few signatures without renaming them: srtp_policy_t became an opaque handle built by
 * setter functions (it was a struct filled by the caller), and protect/unprotect take separate input and output
 * buffers with size_t lengths (they worked in place on int lengths). libsrtp 2's declarations of those names are
 * moved aside while its header is read; the libsrtp 3 names then map onto functions of srtp3-on-srtp2.c.
 * Everything else (types, error codes, profiles, srtp_init, srtp_dealloc, events) is libsrtp 2's own.
 */
#ifndef SPLATCAST_SRTP3_ON_SRTP2_H
#define SPLATCAST_SRTP3_ON_SRTP2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define srtp_policy_t srtp2_policy_aside
#define srtp_create srtp2_create_aside
#define srtp_protect srtp2_protect_aside
#define srtp_unprotect srtp2_unprotect_aside
#define srtp_protect_rtcp srtp2_protect_rtcp_aside
#define srtp_unprotect_rtcp srtp2_unprotect_rtcp_aside
#include <srtp2/srtp.h>
#undef srtp_policy_t
#undef srtp_create
#undef srtp_protect
#undef srtp_unprotect
#undef srtp_protect_rtcp
#undef srtp_unprotect_rtcp

#ifdef __cplusplus
extern "C" {
#endif

/* Codes libsrtp 3 added after libsrtp 2's last one (srtp_err_status_pkt_idx_adv = 27). */
#define srtp_err_status_buffer_small ((srtp_err_status_t)28)
#define srtp_err_status_cryptex_err ((srtp_err_status_t)29)

typedef struct srtp3_on_srtp2_policy *srtp_policy_t;

srtp_err_status_t srtp3_on_srtp2_policy_create(srtp_policy_t *policy);
void srtp3_on_srtp2_policy_destroy(srtp_policy_t policy);
srtp_err_status_t srtp3_on_srtp2_policy_set_ssrc(srtp_policy_t policy, srtp_ssrc_t ssrc);
srtp_err_status_t srtp3_on_srtp2_policy_set_profile(srtp_policy_t policy, srtp_profile_t profile);
srtp_err_status_t srtp3_on_srtp2_policy_add_key(srtp_policy_t policy, const uint8_t *key, size_t key_len,
                                                const uint8_t *salt, size_t salt_len, const uint8_t *mki,
                                                size_t mki_len);
srtp_err_status_t srtp3_on_srtp2_policy_set_allow_repeat_tx(srtp_policy_t policy, bool allow);
srtp_err_status_t srtp3_on_srtp2_policy_set_window_size(srtp_policy_t policy, size_t window_size);
srtp_err_status_t srtp3_on_srtp2_create(srtp_t *session, const srtp_policy_t policy);
srtp_err_status_t srtp3_on_srtp2_protect(srtp_t session, const uint8_t *rtp, size_t rtp_len, uint8_t *srtp,
                                         size_t *srtp_len, size_t mki_index);
srtp_err_status_t srtp3_on_srtp2_unprotect(srtp_t session, const uint8_t *srtp, size_t srtp_len, uint8_t *rtp,
                                           size_t *rtp_len);
srtp_err_status_t srtp3_on_srtp2_protect_rtcp(srtp_t session, const uint8_t *rtcp, size_t rtcp_len,
                                              uint8_t *srtcp, size_t *srtcp_len, size_t mki_index);
srtp_err_status_t srtp3_on_srtp2_unprotect_rtcp(srtp_t session, const uint8_t *srtcp, size_t srtcp_len,
                                                uint8_t *rtcp, size_t *rtcp_len);

#define srtp_policy_create srtp3_on_srtp2_policy_create
#define srtp_policy_destroy srtp3_on_srtp2_policy_destroy
#define srtp_policy_set_ssrc srtp3_on_srtp2_policy_set_ssrc
#define srtp_policy_set_profile srtp3_on_srtp2_policy_set_profile
#define srtp_policy_add_key srtp3_on_srtp2_policy_add_key
#define srtp_policy_set_allow_repeat_tx srtp3_on_srtp2_policy_set_allow_repeat_tx
#define srtp_policy_set_window_size srtp3_on_srtp2_policy_set_window_size
#define srtp_create srtp3_on_srtp2_create
#define srtp_protect srtp3_on_srtp2_protect
#define srtp_unprotect srtp3_on_srtp2_unprotect
#define srtp_protect_rtcp srtp3_on_srtp2_protect_rtcp
#define srtp_unprotect_rtcp srtp3_on_srtp2_unprotect_rtcp
/* Renamed in libsrtp 3, same meaning (the SSRC in network byte order). */
#define srtp_stream_remove srtp_remove_stream

#ifdef __cplusplus
}
#endif

#endif
