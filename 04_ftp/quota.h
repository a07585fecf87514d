/*
 * quota.h - part 2: how many bytes a user stores, and the room that
 * uploads in flight have reserved (quota.c).
 */
#ifndef QUOTA_H
#define QUOTA_H

#include <sys/types.h>

#define QUOTA_DIR ".quota" /* in ROOT: one ledger file per user */

int open_ledger(int root_fd, const char *user_name);
int quota_used(int ledger_fd, int home_fd, off_t *used);
int quota_reserve(int ledger_fd, int home_fd, off_t quota, off_t need,
                  off_t *used);
int quota_release(int ledger_fd);

#endif
