#!/bin/sh
# What a hurried user writes: one curl and two jq processes per page.
# usage: curl_jq.sh FIRST_PAGE_URL SESSION_ID
url=$1
parts=0
while [ -n "$url" ]; do
    body=$(curl -sf -H "Authorization: $2" -H "Accept: application/json" "$url") || exit 1
    parts=$((parts + $(printf '%s' "$body" | jq '.data | length')))
    url=$(printf '%s' "$body" | jq -r '.responseDetails.next_page // empty')
done
echo "parts $parts"
