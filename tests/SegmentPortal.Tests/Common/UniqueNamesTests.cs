using SegmentPortal.Core;
using SegmentPortal.Core.Common;

namespace SegmentPortal.Tests.Common;

public sealed class UniqueNamesTests
{
    [Theory]
    [InlineData("Top buyers", true)]
    [InlineData("  top BUYERS ", true)]
    [InlineData("TOP BUYERS", true)]
    [InlineData("Top buyers 2", false)]
    [InlineData("Topbuyers", false)]
    public void Names_are_compared_trimmed_and_ignoring_case(string name, bool taken) =>
        Assert.Equal(taken, UniqueNames.IsTaken(name, ["North", " Top buyers "]));

    [Fact]
    public void The_message_says_who_has_the_name_or_that_it_exists()
    {
        Assert.Equal("You already have a segment called “North”.", UniqueNames.TakenMessage("segment", " North "));
        Assert.Equal("Its owner already has a dashboard called “Sales”.", UniqueNames.TakenMessage("dashboard", "Sales", "Its owner"));
        Assert.Equal("A connection called “CRM” already exists.", UniqueNames.TakenMessage("connection", "CRM", who: null));
    }

    [Fact]
    public void Require_throws_a_portal_error_or_the_callers_own()
    {
        UniqueNames.Require("South", ["North"], "segment");

        var error = Assert.Throws<PortalException>(() => UniqueNames.Require("north", ["North"], "segment"));
        Assert.Equal("You already have a segment called “north”.", error.Message);
        var own = Assert.Throws<InvalidOperationException>(() =>
            UniqueNames.Require("north", ["North"], "cluster", who: null, error: m => new InvalidOperationException(m)));
        Assert.Equal("A cluster called “north” already exists.", own.Message);
    }
}
