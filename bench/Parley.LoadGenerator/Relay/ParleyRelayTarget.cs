using Parley.Client;
using Parley.LoadGenerator.Hosting;
using Parley.Protocol.Messages;

namespace Parley.LoadGenerator.Relay;

/// <summary>
/// The relay workload over Parley: pair i is users <c>s{i}</c> and <c>r{i}</c> in one CHAT session (seed 001). Every
/// message is a real CHAT on the protected link, so the server opens, stores (group commit) and relays each one
/// exactly as it does a person's.
/// </summary>
internal sealed class ParleyRelayTarget : IRelayTarget
{
    private readonly ParleyServerHost _host;
    private readonly List<ParleyConnection> _connections = [];
    private readonly List<Task> _readers = [];

    private ParleyRelayTarget(ParleyServerHost host) => _host = host;

    public string Name => "parley";

    public int? ServerProcessId => _host.ProcessId;

    public static async Task<ParleyRelayTarget> StartAsync(string executable, int pairs, IEnumerable<string> serverArguments, CancellationToken cancellationToken)
    {
        var users = Enumerable.Range(0, pairs).SelectMany(i => new[] { Sender(i), Receiver(i) }).ToArray();
        return new ParleyRelayTarget(await ParleyServerHost.StartAsync(executable, users, serverArguments, null, cancellationToken).ConfigureAwait(false));
    }

    public async Task<IRelayPair[]> ConnectAsync(int pairs, Action<int, string> delivered, CancellationToken cancellationToken)
    {
        var options = _host.ClientOptions();
        var result = new IRelayPair[pairs];
        await Parallel.ForAsync(0, pairs, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var sender = await LogOnAsync(options, Sender(i), ct).ConfigureAwait(false);
            var receiver = await LogOnAsync(options, Receiver(i), ct).ConfigureAwait(false);

            await sender.SendAsync(new ChatRequest(Receiver(i)), ct).ConfigureAwait(false);
            var started = await WaitForAsync<ChatStarted>(sender, ct).ConfigureAwait(false);
            await WaitForAsync<ChatStarted>(receiver, ct).ConfigureAwait(false);
            var pair = i;
            lock (_connections)
            {
                _readers.Add(ReadAsync(receiver, chat => delivered(pair, chat.Message)));
                _readers.Add(ReadAsync(sender, static _ => { }));
            }

            result[i] = new Pair(sender, started.SessionId);
        }).ConfigureAwait(false);
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Task.WhenAll(_connections.Select(c => c.DisposeAsync().AsTask())).ConfigureAwait(false);
            await Task.WhenAll(_readers).ConfigureAwait(false);
        }
        finally
        {
            await _host.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Logs one user on and keeps the connection for disposal at once, so a failure later in setup leaks nothing.</summary>
    private async Task<ParleyConnection> LogOnAsync(ParleyClientOptions options, string clientId, CancellationToken cancellationToken)
    {
        var connection = await ParleyConnection.LogOnAsync(options, clientId, ParleyServerHost.Password, cancellationToken).ConfigureAwait(false);
        lock (_connections)
        {
            _connections.Add(connection);
        }

        return connection;
    }

    private static string Sender(int i) => $"s{i}";

    private static string Receiver(int i) => $"r{i}";

    private static async Task<T> WaitForAsync<T>(ParleyConnection connection, CancellationToken cancellationToken)
        where T : ParleyMessage
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        await foreach (var message in connection.Events.ReadAllAsync(deadline.Token).ConfigureAwait(false))
        {
            if (message is T wanted)
            {
                return wanted;
            }

            if (message is Error error)
            {
                throw new InvalidOperationException($"{connection.ClientId}: the server refused the benchmark's chat: {error.Text}");
            }
        }

        throw new InvalidOperationException($"{connection.ClientId}: the link closed ({connection.CloseReason}) before {typeof(T).Name}.");
    }

    /// <summary>Reads until the link closes, handing every CHAT to <paramref name="onChat"/>; everything else is dropped.</summary>
    private static async Task ReadAsync(ParleyConnection connection, Action<Chat> onChat)
    {
        await foreach (var message in connection.Events.ReadAllAsync().ConfigureAwait(false))
        {
            if (message is Chat chat)
            {
                onChat(chat);
            }
        }
    }

    private sealed class Pair(ParleyConnection sender, string sessionId) : IRelayPair
    {
        public ValueTask SendAsync(string body, CancellationToken cancellationToken) =>
            new(sender.SendAsync(new Chat(sessionId, body), cancellationToken));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
