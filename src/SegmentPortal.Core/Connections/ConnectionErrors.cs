using DuckDB.NET.Data;
using Microsoft.Extensions.Logging;

namespace SegmentPortal.Core.Connections;

/// <summary>
/// Turns what a driver (or the warehouse, while extracting) throws into a <see cref="ConnectionException"/> with a
/// message for people; the details go to the log. A cancelled operation stays a cancellation.
/// </summary>
internal sealed class ConnectionErrors(ILogger logger, int connectTimeoutSeconds)
{
    /// <summary>The error to throw for <paramref name="error"/>, raised while <paramref name="connecting"/> or while reading.</summary>
    public Exception Translate(
        Exception error, DataConnection connection, SourceDialect dialect, SourceEndpoint endpoint, bool connecting, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return error as OperationCanceledException ?? new OperationCanceledException("Cancelled.", error, cancellationToken);
        }
        string message;
        switch (error)
        {
            case InvalidCastException or FormatException or OverflowException or NotSupportedException when error.Data["portal.column"] is string column:
                message = $"Row {error.Data["portal.row"]:N0}, column '{column}': {error.Message}";
                break;
            case DuckDBException duck:
                message = $"The warehouse could not store the rows: {duck.Message.Split('\n', 2)[0]}";
                break;
            case var _ when !connecting && Chain(error).Any(e => e is TimeoutException or OperationCanceledException):
                message = "The query was stopped: it ran longer than the connection's command timeout.";
                break;
            default:
                message = dialect.Describe(error, endpoint, connectTimeoutSeconds);
                break;
        }
        logger.LogWarning(error, "Connection {Name} ({Kind}) failed: {Message}", connection.Name, connection.Kind, message);
        return new ConnectionException(message, error);
    }

    private static IEnumerable<Exception> Chain(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }
}
