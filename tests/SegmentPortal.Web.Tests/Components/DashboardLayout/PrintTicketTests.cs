using SegmentPortal.Web.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.DashboardLayout;

/// <summary>The one-time tickets the board export's browser signs in with.</summary>
public sealed class PrintTicketTests
{
    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void A_ticket_opens_its_board_for_its_user_once()
    {
        var tickets = new PrintTickets(new Clock(DateTimeOffset.UnixEpoch));
        var ticket = tickets.Issue("user-1", 7);

        Assert.Equal(("user-1", 7), tickets.Redeem(ticket));
        Assert.Null(tickets.Redeem(ticket));
        Assert.Null(tickets.Redeem("made-up"));
    }

    [Fact]
    public void A_ticket_expires_after_a_minute()
    {
        var clock = new Clock(DateTimeOffset.UnixEpoch);
        var tickets = new PrintTickets(clock);
        var ticket = tickets.Issue("user-1", 7);

        clock.Now = clock.Now.AddSeconds(61);

        Assert.Null(tickets.Redeem(ticket));
        Assert.NotEqual(ticket, tickets.Issue("user-1", 7));
    }
}
