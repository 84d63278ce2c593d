// The browser's IANA time zone ("Asia/Shanghai"), for schedules that default to the user's own clock.
export function timeZone() {
    try {
        return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    } catch {
        return "UTC";
    }
}
