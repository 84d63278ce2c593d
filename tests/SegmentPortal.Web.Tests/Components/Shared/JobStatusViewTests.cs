using Bunit;
using Microsoft.AspNetCore.Components;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Web.Components.Shared;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Shared;

public sealed class JobStatusViewTests : PortalTestContext
{
    private static JobSnapshot Interrupted(string? retryTarget) => new(Guid.NewGuid(), "import", "Import orders.csv", "import:1",
        "ann@example.com", JobStatus.Interrupted, 0.4, JobSnapshot.InterruptedMessage, null, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow,
        DateTimeOffset.UtcNow, "id-ann", retryTarget);

    [Fact]
    public async Task A_job_the_restart_stopped_says_so_and_offers_Retry()
    {
        var retried = 0;
        var cut = Render<JobStatusView>(p => p
            .Add(x => x.Job, Interrupted("{}"))
            .Add(x => x.OnRetry, EventCallback.Factory.Create(this, () => retried++)));

        Assert.Contains("Interrupted (the portal restarted). Nothing was changed.", cut.Find("[data-testid=job-interrupted]").TextContent);
        Assert.Empty(cut.FindAll("[role=progressbar]"));
        await cut.InvokeAsync(() => cut.Find("[data-testid=job-retry]").Click());

        Assert.Equal(1, retried);
    }

    [Fact]
    public void A_job_that_cannot_be_started_again_has_no_Retry()
    {
        var cut = Render<JobStatusView>(p => p
            .Add(x => x.Job, Interrupted(null))
            .Add(x => x.OnRetry, EventCallback.Factory.Create(this, () => { })));

        Assert.NotEmpty(cut.FindAll("[data-testid=job-interrupted]"));
        Assert.Empty(cut.FindAll("[data-testid=job-retry]"));
    }
}
