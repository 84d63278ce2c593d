using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;

namespace SegmentPortal.E2E;

/// <summary>
/// The real app, built by this solution, started as its own process on a free port with a fresh data folder and a
/// known first admin. Stopped (whole process tree) and its folder deleted when the tests end, unless
/// <see cref="KeepDataDirectory"/> (a test that kills the app and starts it again on the same folder).
/// </summary>
public sealed class AppUnderTest : IAsyncDisposable
{
    public const string AdminEmail = "admin@e2e.local";
    public const string AdminPassword = "E2e-admin-pass-2468";

    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private AppUnderTest(Process process, string baseUrl, string dataDirectory)
    {
        _process = process;
        BaseUrl = baseUrl;
        DataDirectory = dataDirectory;
    }

    public string BaseUrl { get; }

    public string DataDirectory { get; }

    /// <summary>Leave the data folder when disposed, for the next start on it.</summary>
    public bool KeepDataDirectory { get; set; }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static Task<AppUnderTest> StartAsync(CancellationToken cancellationToken) => StartAsync(null, cancellationToken);

    /// <summary>Starts the app on <paramref name="dataDirectory"/> (what an earlier, killed start left), or on a fresh folder when null.</summary>
    public static Task<AppUnderTest> StartAsync(string? dataDirectory, CancellationToken cancellationToken) =>
        StartAsync(dataDirectory, null, cancellationToken);

    /// <param name="settings">More configuration as environment variables (e.g. <c>Smtp__Host</c>).</param>
    public static async Task<AppUnderTest> StartAsync(string? dataDirectory, IReadOnlyDictionary<string, string>? settings, CancellationToken cancellationToken)
    {
        var dll = FindAppDll();
        var port = FreePort();
        var baseUrl = $"http://127.0.0.1:{port}";
        var data = dataDirectory ?? Path.Combine(Path.GetTempPath(), "segmentportal-e2e", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);

        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(baseUrl);
        // Development serves static assets from the build output's manifest; the secrets are explicit all the same.
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["Storage__DataDirectory"] = data;
        start.Environment["Admin__Email"] = AdminEmail;
        start.Environment["Admin__Password"] = AdminPassword;
        start.Environment["Auth__RevalidationSeconds"] = "2";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the app.");
        var app = new AppUnderTest(process, baseUrl, data);
        process.OutputDataReceived += (_, e) => app.Append(e.Data);
        process.ErrorDataReceived += (_, e) => app.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await app.WaitUntilReadyAsync(cancellationToken);
        return app;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        // The first answer of a freshly started app (migrations, the warehouse, the first page compiled) is slow on a
        // busy machine: a short per-request timeout would throw instead of waiting for it. Both limits are hang guards.
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(3) };
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The app exited with code {_process.ExitCode}:\n{Log}");
            }
            try
            {
                var response = await http.GetAsync($"{BaseUrl}/account/login", cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(250, cancellationToken); // polling a port that is not open yet: nothing to wait on
        }
        throw new TimeoutException($"The app did not answer within 5 minutes:\n{Log}");
    }

    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "SegmentPortal.sln")))
                {
                    return dir.FullName;
                }
            }
            throw new InvalidOperationException("The E2E tests run from a clone of the repository.");
        }
    }

    private static string FindAppDll()
    {
        var configuration = typeof(AppUnderTest).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .First(a => a.Key == "Configuration").Value;
        var dll = Path.Combine(RepositoryRoot, "src", "SegmentPortal.Web", "bin", configuration!, "net10.0", "SegmentPortal.Web.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build the solution first: {dll} is missing.");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Stops the app the hard way, as a crash or <c>kill -9</c> would: SIGKILL, no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }
        await _process.WaitForExitAsync();
        WriteLogToTestOutput();
    }

    /// <summary>
    /// Hands the app's last log lines to the running test's output (shown by the runner when the test fails), so a
    /// failure of an app started by a test can be read from the CI log.
    /// </summary>
    private void WriteLogToTestOutput()
    {
        if (Xunit.TestContext.Current.TestOutputHelper is not { } output)
        {
            return;
        }
        var lines = Log.Split('\n');
        output.WriteLine($"--- last lines of the app's log ({BaseUrl}) ---");
        output.WriteLine(string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 200))));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            WriteLogToTestOutput();
        }
        _process.Dispose();
        if (KeepDataDirectory)
        {
            return;
        }
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS temp cleaner.
        }
    }
}
