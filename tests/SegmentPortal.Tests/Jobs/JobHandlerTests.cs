using System.Security.Claims;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using SegmentPortal.Core;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;

namespace SegmentPortal.Tests.Jobs;

/// <summary>Jobs queued with a payload are done by the handler registered for it, in the job's scope, as the user who asked.</summary>
public sealed class JobHandlerTests
{
    private static readonly ClaimsPrincipal User = new(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, "ann-id"), new Claim(ClaimTypes.Name, "ann")], "Test"));

    private sealed record Greeting(string Text);

    private sealed class GreetingHandler(ScopedPrincipal principal, List<string> seen) : IJobHandler<Greeting>
    {
        public Task RunAsync(Greeting payload, IProgress<JobProgress> progress, CancellationToken cancellationToken)
        {
            lock (seen)
            {
                seen.Add($"{payload.Text} {principal.Principal?.Identity?.Name}");
            }
            progress.Report(new JobProgress(1, "Greeted"));
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task A_payload_goes_to_its_handler_which_runs_as_the_user_who_asked()
    {
        var seen = new List<string>();
        await using var services = new ServiceCollection()
            .AddScoped<ScopedPrincipal>()
            .AddSingleton(seen)
            .AddScoped<IJobHandler<Greeting>, GreetingHandler>()
            .BuildServiceProvider();
        var queue = new JobQueue(TimeProvider.System);
        using var runner = new JobRunner(queue, services.GetRequiredService<IServiceScopeFactory>(), NullLogger<JobRunner>.Instance);
        var done = new TaskCompletionSource<JobSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        queue.Changed += s =>
        {
            if (!s.IsActive)
            {
                done.TrySetResult(s);
            }
        };
        await runner.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            var job = queue.Enqueue(JobRequest.For("greeting", "Greet", "greet", User, new Greeting("hello"), retryTarget: "hello"));
            var finished = await done.Task.WaitAsync(TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);

            Assert.Equal(job.Id, finished.Id);
            Assert.Equal(JobStatus.Succeeded, finished.Status);
            Assert.Equal("Greeted", finished.Message);
            Assert.Equal("hello", finished.RetryTarget);
            Assert.Equal(["hello ann"], seen);
        }
        finally
        {
            await runner.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public void Every_job_handler_in_Core_is_registered()
    {
        var services = new ServiceCollection().AddSegmentPortalCore();
        var handled = typeof(JobQueue).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false })
            .SelectMany(t => t.GetInterfaces())
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IJobHandler<>))
            .Distinct()
            .ToList();

        Assert.NotEmpty(handled);
        Assert.All(handled, handler => Assert.Contains(services, d => d.ServiceType == handler));
    }
}
