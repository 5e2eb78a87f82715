using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Parley.Tests.Support;

/// <summary>Keeps every server log line so a test can fail on errors (as MQTTnet's TestEnvironment does) and check content never leaks.</summary>
internal sealed class CollectingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Category, string Text)> _entries = new();
    private readonly ConcurrentQueue<string> _values = new();

    public IReadOnlyList<(LogLevel Level, string Category, string Text)> Entries => [.. _entries];

    /// <summary>
    /// Every named value of every entry's state and of every scope opened, as "name=value": what a structured sink
    /// (<c>--log-format json</c>) writes besides the message, including values the message template does not show.
    /// </summary>
    public IReadOnlyList<string> Values => [.. _values];

    public IEnumerable<string> Errors => _entries.Where(e => e.Level >= LogLevel.Error).Select(e => $"{e.Category}: {e.Text}");

    public ILogger CreateLogger(string categoryName) => new Collector(this, categoryName);

    public void Dispose()
    {
    }

    private void Keep(object? state)
    {
        if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
        {
            foreach (var (name, value) in pairs)
            {
                // Bytes as base64 as well, so a key logged as "12, 200, 3, …" is still recognisable as one.
                _values.Enqueue(name + "=" + value switch
                {
                    byte[] bytes => Convert.ToBase64String(bytes) + " " + Convert.ToHexString(bytes),
                    System.Collections.IEnumerable items and not string => string.Join(", ", items.Cast<object?>()),
                    _ => value,
                });
            }
        }
        else if (state is not null)
        {
            _values.Enqueue(state.ToString() ?? "");
        }
    }

    private sealed class Collector(CollectingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            owner.Keep(state);
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            owner.Keep(state);
            owner._entries.Enqueue((logLevel, category, formatter(state, exception) + (exception is null ? "" : " " + exception)));
        }
    }
}
