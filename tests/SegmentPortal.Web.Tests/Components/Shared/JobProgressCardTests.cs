using System.Collections.Concurrent;
using Bunit;
using MudBlazor;
using SegmentPortal.Core;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Web.Components.Shared;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Shared;

public sealed class JobProgressCardTests : PortalTestContext
{
    private const string Key = "import-customers";
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<JobSnapshot> _finished = new();

    /// <summary>The person who starts the test jobs (<see cref="PortalTestContext.Job"/>) is the one looking at the card.</summary>
    public JobProgressCardTests() => SignInAs(Starter, Roles.Analyst);

    private const string Starter = "analyst@example.com";

    [Fact]
    public void Shows_nothing_without_a_job()
    {
        var cut = RenderCard();

        Assert.Empty(cut.FindAll("[data-testid=job-progress]"));
        Assert.Equal(string.Empty, cut.Markup.Trim());
    }

    [Fact]
    public void Ignores_jobs_with_another_key()
    {
        var cut = RenderCard();

        Jobs.Enqueue(BlockingJob("something-else", "Another job", _release.Task));

        Assert.Empty(cut.FindAll("[data-testid=job-progress]"));
    }

    [Fact]
    public void Shows_a_queued_job_with_its_title_a_progress_bar_and_a_cancel_button()
    {
        var cut = RenderCard();

        Jobs.Enqueue(BlockingJob(Key, "Import customers.csv", _release.Task));

        cut.WaitForAssertion(() =>
        {
            var card = cut.Find("[data-testid=job-progress]");
            Assert.Contains("Import customers.csv", card.TextContent);
            Assert.Contains("Waiting to start…", card.TextContent);
            Assert.NotNull(card.QuerySelector(".mud-progress-linear"));
            Assert.Equal("Cancel", CancelButton(cut).TextContent.Trim());
        });
    }

    [Fact]
    public async Task Shows_a_job_that_was_already_queued_when_the_page_opened()
    {
        Jobs.Enqueue(BlockingJob(Key, "Import customers.csv", _release.Task));

        var cut = RenderCard();

        Assert.Contains("Import customers.csv", cut.Find("[data-testid=job-progress]").TextContent);
        Assert.Single(cut.FindAll("[data-testid=job-progress] button"));
    }

    [Fact]
    public async Task Cancel_cancels_a_queued_job_and_says_nothing_changed()
    {
        var job = Jobs.Enqueue(BlockingJob(Key, "Import customers.csv", _release.Task));
        var cut = RenderCard();

        await cut.InvokeAsync(() => CancelButton(cut).Click());

        Assert.Equal(JobStatus.Cancelled, Jobs.Get(job.Id)?.Status);
        cut.WaitForAssertion(() =>
        {
            var card = cut.Find("[data-testid=job-progress]");
            Assert.Contains("Cancelled. Nothing was changed.", card.TextContent);
            Assert.Empty(card.QuerySelectorAll(".mud-progress-linear"));
            Assert.DoesNotContain(card.QuerySelectorAll("button"), b => b.TextContent.Contains("Cancel", StringComparison.Ordinal));
        });
        var finished = Assert.Single(_finished);
        Assert.Equal(JobStatus.Cancelled, finished.Status);
        Assert.Equal(job.Id, finished.Id);
    }

    [Fact]
    public void Cancel_is_not_offered_to_someone_who_did_not_start_the_job()
    {
        SignInAs("bo@example.com", Roles.Analyst);
        var job = Jobs.Enqueue(BlockingJob(Key, "Refresh customers", _release.Task));

        var cut = RenderCard();

        Assert.Contains("Refresh customers", cut.Find("[data-testid=job-progress]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=job-progress] button"));
        Assert.True(Jobs.Get(job.Id)!.IsActive);
    }

    [Fact]
    public async Task An_admin_is_offered_cancel_for_someone_elses_job()
    {
        SignInAs("admin@example.com", Roles.Admin);
        var job = Jobs.Enqueue(BlockingJob(Key, "Refresh customers", _release.Task));
        var cut = RenderCard();

        await cut.InvokeAsync(() => CancelButton(cut).Click());

        Assert.Equal(JobStatus.Cancelled, Jobs.Get(job.Id)?.Status);
    }

    [Fact]
    public async Task Closing_the_message_of_a_finished_job_hides_the_card()
    {
        Jobs.Enqueue(BlockingJob(Key, "Import customers.csv", _release.Task));
        var cut = RenderCard();
        await cut.InvokeAsync(() => CancelButton(cut).Click());
        cut.WaitForAssertion(() => Assert.Contains("Cancelled", cut.Markup));

        await cut.InvokeAsync(() => cut.Find("[data-testid=job-progress] .mud-alert-close button").Click());

        Assert.Empty(cut.FindAll("[data-testid=job-progress]"));
    }

    [Fact]
    public void Tracked_job_is_shown_straight_away()
    {
        var cut = RenderCard();
        var job = new JobSnapshot(Guid.NewGuid(), "test", "Import orders.csv", Key, "ann@example.com", JobStatus.Queued, 0,
            "Waiting to start…", null, DateTimeOffset.UtcNow, null, null);

        cut.InvokeAsync(() => cut.Instance.Track(job));

        Assert.Contains("Import orders.csv", cut.Find("[data-testid=job-progress]").TextContent);
    }

    [Fact]
    public async Task Shows_the_progress_a_running_job_reports()
    {
        await StartJobRunnerAsync();
        var cut = RenderCard();

        Jobs.Enqueue(Job(Key, "Import customers.csv", async (_, progress, ct) =>
        {
            progress.Report(new JobProgress(0.5, "Reading rows"));
            await _release.Task.WaitAsync(ct);
        }));

        cut.WaitForAssertion(() =>
        {
            var card = cut.Find("[data-testid=job-progress]");
            Assert.Contains("Reading rows", card.TextContent);
            Assert.Equal("50", card.QuerySelector("[role=progressbar]")?.GetAttribute("aria-valuenow"));
        });
    }

    [Fact]
    public async Task Cancel_stops_a_running_job()
    {
        await StartJobRunnerAsync();
        var job = Jobs.Enqueue(BlockingJob(Key, "Import customers.csv", _release.Task));
        var cut = RenderCard();
        cut.WaitForAssertion(() => Assert.Equal(JobStatus.Running, Jobs.Get(job.Id)?.Status));

        await cut.InvokeAsync(() => CancelButton(cut).Click());

        cut.WaitForAssertion(() =>
        {
            Assert.Equal(JobStatus.Cancelled, Jobs.Get(job.Id)?.Status);
            Assert.Contains("Cancelled. Nothing was changed.", cut.Find("[data-testid=job-progress]").TextContent);
            Assert.Equal(JobStatus.Cancelled, Assert.Single(_finished).Status);
        });
    }

    [Fact]
    public async Task Failed_job_shows_the_reason_and_raises_OnFinished()
    {
        await StartJobRunnerAsync();
        var cut = RenderCard();

        var job = Jobs.Enqueue(Job(Key, "Import customers.csv", (_, _, _) => throw new PortalException("Bad file")));

        cut.WaitForAssertion(() =>
        {
            var alert = cut.Find("[data-testid=job-progress] .mud-alert");
            Assert.Contains("mud-alert-text-error", alert.ClassList);
            Assert.Contains("Bad file Nothing was changed.", alert.TextContent);
            var finished = Assert.Single(_finished);
            Assert.Equal(job.Id, finished.Id);
            Assert.Equal(JobStatus.Failed, finished.Status);
            Assert.Equal("Bad file", finished.Error);
        });
        Assert.Contains("Import customers.csv failed: Bad file", SnackbarMessages);
        // No Cancel for a finished job; only the close button that dismisses the message.
        Assert.DoesNotContain(cut.FindAll("[data-testid=job-progress] button"), b => b.TextContent.Contains("Cancel"));

        await cut.InvokeAsync(() => cut.Find("[data-testid=job-progress] .mud-alert-close button").Click());

        Assert.Empty(cut.FindAll("[data-testid=job-progress]"));
    }

    [Fact]
    public async Task Unexpected_failure_shows_a_safe_message()
    {
        await StartJobRunnerAsync();
        var cut = RenderCard();

        Jobs.Enqueue(Job(Key, "Import customers.csv", (_, _, _) => throw new InvalidOperationException("connection string with a password")));

        cut.WaitForAssertion(() =>
        {
            var text = cut.Find("[data-testid=job-progress]").TextContent;
            Assert.Contains("Something went wrong", text);
            Assert.DoesNotContain("password", text);
        });
    }

    [Fact]
    public async Task Succeeded_job_shows_its_last_message_and_raises_OnFinished()
    {
        await StartJobRunnerAsync();
        var cut = RenderCard();

        Jobs.Enqueue(Job(Key, "Import customers.csv", (_, progress, _) =>
        {
            progress.Report(new JobProgress(1, "Imported 3 customers"));
            return Task.CompletedTask;
        }));

        cut.WaitForAssertion(() =>
        {
            var alert = cut.Find("[data-testid=job-progress] .mud-alert");
            Assert.Contains("mud-alert-text-success", alert.ClassList);
            Assert.Contains("Imported 3 customers", alert.TextContent);
            Assert.Equal(JobStatus.Succeeded, Assert.Single(_finished).Status);
        });
        Assert.Empty(SnackbarMessages);
    }

    [Fact]
    public async Task A_job_that_succeeded_before_the_page_opened_is_not_shown()
    {
        await StartJobRunnerAsync();
        var job = Jobs.Enqueue(Job(Key, "Import customers.csv", (_, _, _) => Task.CompletedTask));
        await WaitUntilFinishedAsync(job);

        var cut = RenderCard();

        Assert.Empty(cut.FindAll("[data-testid=job-progress]"));
        Assert.Empty(_finished);
    }

    [Fact]
    public async Task A_job_that_failed_before_the_page_opened_is_still_shown()
    {
        await StartJobRunnerAsync();
        var job = Jobs.Enqueue(Job(Key, "Import customers.csv", (_, _, _) => throw new PortalException("Bad file")));
        await WaitUntilFinishedAsync(job);

        var cut = RenderCard();

        Assert.Contains("Bad file", cut.Find("[data-testid=job-progress]").TextContent);
        Assert.Empty(_finished);
    }

    [Fact]
    public async Task Stops_following_jobs_once_removed_from_the_page()
    {
        RenderCard();
        await DisposeComponentsAsync();

        var job = Jobs.Enqueue(BlockingJob(Key, "Import customers.csv", _release.Task));
        Jobs.Cancel(job.Id, Principal(Starter, Roles.Analyst));
        // Anything the card had queued on the renderer's dispatcher has run once this has.
        await Renderer.Dispatcher.InvokeAsync(() => { });

        Assert.Empty(_finished);
    }

    private IRenderedComponent<JobProgressCard> RenderCard() => Render<JobProgressCard>(p => p
        .Add(x => x.JobKey, Key)
        .Add(x => x.OnFinished, job => _finished.Enqueue(job)));

    private static AngleSharp.Dom.IElement CancelButton(IRenderedComponent<JobProgressCard> cut) =>
        cut.FindAll("[data-testid=job-progress] button").Single(b => b.TextContent.Trim() == "Cancel");

    private async Task WaitUntilFinishedAsync(JobSnapshot job)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Xunit.TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60)); // a guard against a hang, not a measure
        while (Jobs.Get(job.Id) is { IsActive: true })
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
