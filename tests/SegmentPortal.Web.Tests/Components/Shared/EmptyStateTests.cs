using Bunit;
using MudBlazor;
using SegmentPortal.Web.Components.Shared;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Shared;

public sealed class EmptyStateTests : PortalTestContext
{
    [Fact]
    public void Shows_the_title_as_a_heading_and_the_explanation()
    {
        var cut = Render<EmptyState>(p => p
            .Add(x => x.Title, "No data yet")
            .AddChildContent("Load the demo data to start."));

        Assert.Equal("No data yet", cut.Find("h2").TextContent.Trim());
        Assert.Contains("Load the demo data to start.", cut.Find(".empty-state").TextContent);
    }

    [Fact]
    public void Shows_the_actions_it_is_given()
    {
        var cut = Render<EmptyState>(p => p
            .Add(x => x.Title, "No data yet")
            .Add(x => x.Actions, "<button data-testid=\"next-step\">Go</button>"));

        Assert.Equal("Go", cut.Find(".empty-state [data-testid=next-step]").TextContent);
    }

    [Fact]
    public void Uses_an_inbox_icon_unless_told_otherwise()
    {
        var plain = Render<EmptyState>(p => p.Add(x => x.Title, "Nothing"));
        var custom = Render<EmptyState>(p => p.Add(x => x.Title, "Nothing").Add(x => x.Icon, Icons.Material.Outlined.Insights));

        Assert.Equal(Icons.Material.Outlined.Inbox, plain.FindComponent<MudIcon>().Instance.Icon);
        Assert.Equal(Icons.Material.Outlined.Insights, custom.FindComponent<MudIcon>().Instance.Icon);
    }

    [Fact]
    public void Renders_without_explanation_or_actions()
    {
        var cut = Render<EmptyState>(p => p.Add(x => x.Title, "Nothing here"));

        Assert.Equal("Nothing here", cut.Find("h2").TextContent.Trim());
        Assert.Empty(cut.FindAll("button"));
    }
}
