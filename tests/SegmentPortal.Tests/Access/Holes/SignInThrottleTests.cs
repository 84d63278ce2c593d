using SegmentPortal.Core.Identity;
using SegmentPortal.Tests.Audit;

namespace SegmentPortal.Tests.Access.Holes;

/// <summary>
/// Issue 12, lockout as a denial-of-service tool: failed sign-ins are counted per client address and account, so one
/// client that guesses an account's password is stopped for that account alone, and nobody else is.
/// </summary>
public sealed class SignInThrottleTests
{
    private readonly SettableClock _clock = new(new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero));

    private SignInThrottle Throttle() => new(_clock, failuresPerClient: 5, window: TimeSpan.FromMinutes(15));

    [Fact]
    public void S8_a_client_that_guessed_wrong_five_times_is_refused_for_that_account_only()
    {
        var throttle = Throttle();
        for (var i = 0; i < 4; i++)
        {
            throttle.RecordFailure("203.0.113.7", "victim@test.local");
            Assert.False(throttle.IsRefused("203.0.113.7", "victim@test.local"));
        }

        throttle.RecordFailure("203.0.113.7", "victim@test.local");

        Assert.True(throttle.IsRefused("203.0.113.7", "victim@test.local"));
        // The same account typed another way is the same account.
        Assert.True(throttle.IsRefused("203.0.113.7", "  VICTIM@test.local "));
        // Another client, the account's owner included, is not refused; nor is the attacker for another account.
        Assert.False(throttle.IsRefused("198.51.100.20", "victim@test.local"));
        Assert.False(throttle.IsRefused("203.0.113.7", "someone.else@test.local"));
    }

    [Fact]
    public void S8_the_refusal_ends_once_the_window_has_passed_since_the_last_failure()
    {
        var throttle = Throttle();
        for (var i = 0; i < 5; i++)
        {
            throttle.RecordFailure("203.0.113.7", "victim@test.local");
        }

        _clock.Now += TimeSpan.FromMinutes(14);
        Assert.True(throttle.IsRefused("203.0.113.7", "victim@test.local"));
        _clock.Now += TimeSpan.FromMinutes(1);
        Assert.False(throttle.IsRefused("203.0.113.7", "victim@test.local"));

        // Counting starts again: one failure does not refuse the client at once.
        throttle.RecordFailure("203.0.113.7", "victim@test.local");
        Assert.False(throttle.IsRefused("203.0.113.7", "victim@test.local"));
    }

    [Fact]
    public void S8_a_successful_sign_in_clears_the_clients_failures_and_old_failures_age_out()
    {
        var throttle = Throttle();
        for (var i = 0; i < 4; i++)
        {
            throttle.RecordFailure("198.51.100.20", "owner@test.local");
        }
        throttle.RecordSuccess("198.51.100.20", "owner@test.local");
        throttle.RecordFailure("198.51.100.20", "owner@test.local");
        Assert.False(throttle.IsRefused("198.51.100.20", "owner@test.local"));

        // Four failures long ago and one now are not five in a row.
        for (var i = 0; i < 3; i++)
        {
            throttle.RecordFailure("198.51.100.20", "owner@test.local");
        }
        _clock.Now += TimeSpan.FromMinutes(20);
        throttle.RecordFailure("198.51.100.20", "owner@test.local");
        Assert.False(throttle.IsRefused("198.51.100.20", "owner@test.local"));
    }
}
