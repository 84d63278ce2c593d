using System.Collections.Concurrent;
using Bunit;
using MudBlazor;
using SegmentPortal.Core.Demo;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Web.Components.Shared;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Shared;

public sealed class LoadDemoDataButtonTests : PortalTestContext
{
    private readonly ConcurrentQueue<JobSnapshot> _started = new();

    [Theory]
    [InlineData(Roles.Analyst)]
    [InlineData(Roles.Admin)]
    public void Analysts_and_admins_see_the_button(string role)
    {
        SignInAs("someone@example.com", role);

        var cut = RenderButton();

        Assert.Equal("Load demo data", cut.Find("[data-testid=load-demo-data]").TextContent.Trim());
    }

    [Fact]
    public void Viewer_does_not_see_the_button()
    {
        SignInAs("viewer@example.com", Roles.Viewer);

        var cut = RenderButton();

        Assert.Empty(cut.FindAll("[data-testid=load-demo-data]"));
    }

    [Fact]
    public void Signed_out_visitor_does_not_see_the_button()
    {
        SignedOut();

        var cut = RenderButton();

        Assert.Empty(cut.FindAll("[data-testid=load-demo-data]"));
    }

    [Fact]
    public void Without_an_authentication_state_the_button_is_hidden()
    {
        var cut = RenderButton();

        Assert.Empty(cut.FindAll("[data-testid=load-demo-data]"));
    }

    [Fact]
    public void Clicking_queues_the_demo_data_job_as_the_user_and_raises_OnStarted()
    {
        SignInAs("ann@example.com", Roles.Analyst);
        var cut = RenderButton();

        cut.Find("[data-testid=load-demo-data]").Click();

        cut.WaitForAssertion(() => Assert.Single(_started));
        var queued = Assert.Single(Jobs.List());
        Assert.Equal(DemoDataService.JobKey, queued.Key);
        Assert.Equal(JobStatus.Queued, queued.Status);
        Assert.Equal("ann@example.com", queued.RequestedBy);
        Assert.Equal("Load demo data (100,000 customers)", queued.Title);
        Assert.Equal(queued.Id, _started.Single().Id);
    }

    [Fact]
    public void Clicking_again_joins_the_job_already_queued()
    {
        SignInAs("ann@example.com", Roles.Analyst);
        var cut = RenderButton();

        cut.Find("[data-testid=load-demo-data]").Click();
        cut.WaitForAssertion(() => Assert.Single(_started));
        cut.Find("[data-testid=load-demo-data]").Click();
        cut.WaitForAssertion(() => Assert.Equal(2, _started.Count));

        var queued = Assert.Single(Jobs.List());
        Assert.All(_started, job => Assert.Equal(queued.Id, job.Id));
    }

    [Fact]
    public void Button_is_enabled_again_once_the_job_is_queued()
    {
        SignInAs("ann@example.com", Roles.Analyst);
        var cut = RenderButton();

        cut.Find("[data-testid=load-demo-data]").Click();

        cut.WaitForAssertion(() =>
        {
            Assert.Single(_started);
            Assert.False(cut.Find("[data-testid=load-demo-data]").HasAttribute("disabled"));
        });
    }

    [Fact]
    public void When_the_service_refuses_the_user_is_told_and_nothing_starts()
    {
        // The page still thinks the user may load data, but their role was taken away since.
        SignInAs("ann@example.com", Roles.Analyst);
        CurrentUser.Principal = Principal("ann@example.com", Roles.Viewer);
        var cut = RenderButton();

        cut.Find("[data-testid=load-demo-data]").Click();

        cut.WaitForAssertion(() => Assert.Contains("You do not have permission to do that.", SnackbarMessages));
        Assert.Empty(_started);
        Assert.Empty(Jobs.List());
        Assert.False(cut.Find("[data-testid=load-demo-data]").HasAttribute("disabled"));
    }

    [Fact]
    public void Is_a_filled_button_unless_told_otherwise()
    {
        SignInAs("ann@example.com", Roles.Analyst);

        var filled = RenderButton();
        var text = Render<LoadDemoDataButton>(p => p.Add(x => x.Variant, Variant.Text));

        Assert.Contains("mud-button-filled", filled.Find("[data-testid=load-demo-data]").ClassList);
        Assert.Contains("mud-button-text", text.Find("[data-testid=load-demo-data]").ClassList);
    }

    private IRenderedComponent<LoadDemoDataButton> RenderButton() =>
        Render<LoadDemoDataButton>(p => p.Add(x => x.OnStarted, job => _started.Enqueue(job)));
}
