using Bunit;
using SegmentPortal.Web.Components.Shared;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Shared;

public sealed class RelativeTimeTests : PortalTestContext
{
    private static readonly DateTimeOffset Now = new(2025, 6, 15, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(0, "just now")]
    [InlineData(59, "just now")]
    [InlineData(60, "1 min ago")]
    [InlineData(5 * 60, "5 min ago")]
    [InlineData(5 * 60 + 59, "5 min ago")]
    [InlineData(59 * 60 + 59, "59 min ago")]
    [InlineData(3600, "1 h ago")]
    [InlineData(3 * 3600, "3 h ago")]
    [InlineData(23 * 3600 + 3599, "23 h ago")]
    [InlineData(86400, "1 d ago")]
    [InlineData(2 * 86400, "2 d ago")]
    [InlineData(29 * 86400 + 86399, "29 d ago")]
    public void Describes_recent_times_in_words(int secondsAgo, string expected)
    {
        Assert.Equal(expected, RelativeTime.Describe(Now.AddSeconds(-secondsAgo), Now));
    }

    [Fact]
    public void Describes_times_a_month_or_more_ago_by_date()
    {
        Assert.Equal("2025-05-16", RelativeTime.Describe(Now.AddDays(-30), Now));
        Assert.Equal("2024-01-02", RelativeTime.Describe(new DateTimeOffset(2024, 1, 2, 8, 30, 0, TimeSpan.Zero), Now));
    }

    [Fact]
    public void Times_in_the_future_read_as_just_now()
    {
        Assert.Equal("just now", RelativeTime.Describe(Now.AddMinutes(5), Now));
    }

    [Fact]
    public void Renders_the_description_against_the_clock()
    {
        Clock.Now = Now;

        var cut = Render<RelativeTime>(p => p.Add(x => x.Value, Now.AddMinutes(-5)));

        Assert.Equal("5 min ago", cut.Find("span").TextContent);
    }

    [Fact]
    public void Tooltip_has_the_exact_local_time()
    {
        Clock.Now = Now;
        var value = Now.AddHours(-3);

        var cut = Render<RelativeTime>(p => p.Add(x => x.Value, value));

        Assert.Equal(value.ToLocalTime().ToString("yyyy-MM-dd HH:mm"), cut.Find("span").GetAttribute("title"));
        Assert.Equal("3 h ago", cut.Find("span").TextContent);
    }

    [Fact]
    public void Follows_the_clock_when_rendered_again()
    {
        Clock.Now = Now;
        var cut = Render<RelativeTime>(p => p.Add(x => x.Value, Now.AddMinutes(-5)));

        Clock.Now = Now.AddDays(2);
        cut.Render();

        Assert.Equal("2 d ago", cut.Find("span").TextContent);
    }
}
