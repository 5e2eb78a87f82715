using System.Net.Sockets;
using Parley.Protocol;
using Parley.Protocol.Messages;

namespace Parley.Client;

/// <summary>
/// Requests answered out of the event stream (issues #5 and #6): key lookups, key publication and seed 000's
/// lookup. A caller awaits them while the app's own loop may be busy; the receive loop completes them.
/// </summary>
public sealed partial class ParleyConnection
{
    // Key-directory requests (issue #5) are answered out of the event stream, so a caller can await them while the
    // app's own loop is busy: KEYS by the asked ID, KEYS_OK (or its ERROR) by the one publish in flight.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource<Keys>> _keyRequests = new(StringComparer.OrdinalIgnoreCase);
    private TaskCompletionSource<KeysOk>? _publish;
    private TaskCompletionSource<LookupReply>? _lookup;
    private int _staleLookups;
    private readonly SemaphoreSlim _lookupLock = new(1, 1);

    /// <summary>
    /// KEYS_GET (issue #5): every identity key <paramref name="clientId"/> published, and my backup when it is me.
    /// Concurrent requests for one ID share the answer. Every failure, the link ending or a timeout
    /// (<see cref="ParleyClientOptions.RequestTimeout"/>) included, is a <see cref="ParleyClientException"/>.
    /// </summary>
    public async Task<Keys> GetKeysAsync(string clientId, CancellationToken cancellationToken = default)
    {
        var pending = new TaskCompletionSource<Keys>(TaskCreationOptions.RunContinuationsAsynchronously);
        var request = _keyRequests.GetOrAdd(clientId, pending);
        if (ReferenceEquals(request, pending))
        {
            await SendRequestAsync(new KeysGet(clientId), pending, () => _keyRequests.TryRemove(new(clientId, pending)), cancellationToken).ConfigureAwait(false);
        }

        return await AwaitAnswerAsync(request.Task, () => _keyRequests.TryRemove(new(clientId, request)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>KEYS_PUT (issue #5): publishes my identity keys and their backup; returns the stored fingerprint or throws with the server's reason.</summary>
    public async Task<string> PublishKeysAsync(KeysPut keys, CancellationToken cancellationToken = default)
    {
        var pending = new TaskCompletionSource<KeysOk>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Interlocked.CompareExchange(ref _publish, pending, null) is not null)
        {
            throw new InvalidOperationException("A key publication is already in flight.");
        }

        void Forget() => Interlocked.CompareExchange(ref _publish, null, pending);
        await SendRequestAsync(keys, pending, Forget, cancellationToken).ConfigureAwait(false);
        return (await AwaitAnswerAsync(pending.Task, Forget, cancellationToken).ConfigureAwait(false)).Fingerprint;
    }

    /// <summary>Sends a request whose answer <paramref name="pending"/> awaits; a link already closed, or closing under the send, fails it at once.</summary>
    private async Task SendRequestAsync<T>(ParleyMessage request, TaskCompletionSource<T> pending, Action forget, CancellationToken cancellationToken)
    {
        try
        {
            // Checked after registering: the receive loop fails what is registered when it ends, this catches the rest.
            if (CloseReason is not null)
            {
                throw new IOException("closed");
            }

            await SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Never sent: nobody may join this request and wait for an answer that cannot come.
            forget();
            pending.TrySetCanceled(cancellationToken);
            throw;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or SocketException or ProtocolException)
        {
            forget();
            var lost = new ParleyClientException(ClientFailure.ConnectionLost, $"The connection ended ({CloseReason ?? e.Message}).");
            pending.TrySetException(lost);
            throw lost;
        }
    }

    private async Task<T> AwaitAnswerAsync<T>(Task<T> answer, Action forget, CancellationToken cancellationToken)
    {
        try
        {
            return await answer.WaitAsync(_requestTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            forget();
            throw new ParleyClientException(ClientFailure.ServerUnreachable,
                $"The server did not answer within {_requestTimeout.TotalSeconds:0.#} s (it may not support end-to-end encryption).");
        }
        catch (OperationCanceledException)
        {
            forget(); // the answer may still come; it then falls through to Events, where nothing waits for it
            throw;
        }
    }

    /// <summary>
    /// Seed 000's Lookup (issue #6): LOOKUP_REQUEST, answered by the next LOOKUP_REPLY. One lookup at a time, so
    /// replies (which name no request) pair with requests in order. Failures are <see cref="ParleyClientException"/>.
    /// </summary>
    public async Task<LookupReply> LookupAsync(string clientId, CancellationToken cancellationToken = default)
    {
        await _lookupLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        var sent = false;
        try
        {
            var pending = new TaskCompletionSource<LookupReply>(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _lookup, pending);
            void Forget()
            {
                // Given up on after it was sent, and still unanswered: its late reply must not be taken for the next
                // lookup's. (If the reply won the race, it was consumed and there is nothing stale.)
                if (ReferenceEquals(Interlocked.CompareExchange(ref _lookup, null, pending), pending) && sent)
                {
                    Interlocked.Increment(ref _staleLookups);
                }
            }

            await SendRequestAsync(new LookupRequest(clientId), pending, Forget, cancellationToken).ConfigureAwait(false);
            sent = true;
            return await AwaitAnswerAsync(pending.Task, Forget, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lookupLock.Release();
        }
    }

    /// <summary>LISTEN (issue #6): tells the server the port direct calls reach us on (0: none).</summary>
    public Task ListenAsync(int port, CancellationToken cancellationToken = default) => SendAsync(new Listen(port), cancellationToken);

    /// <summary>Completes the key-directory request that <paramref name="message"/> answers; false if it answers none.</summary>
    private bool TryCompleteKeyRequest(ParleyMessage message)
    {
        switch (message)
        {
            case Keys keys when _keyRequests.TryRemove(keys.ClientId, out var request):
                request.TrySetResult(keys);
                return true;
            case LookupReply when Volatile.Read(ref _staleLookups) > 0:
                Interlocked.Decrement(ref _staleLookups);
                return true;
            case LookupReply reply when Interlocked.Exchange(ref _lookup, null) is { } lookup:
                lookup.TrySetResult(reply);
                return true;
            case KeysOk ok when Interlocked.Exchange(ref _publish, null) is { } publish:
                publish.TrySetResult(ok);
                return true;
            // ERROR names no request: KEYS_INVALID is a publish's unless a PASSWD (whose backup it may be about) waits too.
            case Error { Code: ErrorCodes.KeysInvalid or ErrorCodes.TooManyKeys or ErrorCodes.AccountRemoved } error
                when Volatile.Read(ref _publish) is not null && (error.Code != ErrorCodes.KeysInvalid || Volatile.Read(ref _pendingVerifier) is null):
                Interlocked.Exchange(ref _publish, null)?.TrySetException(new ParleyClientException(ClientFailure.Refused, error.Text));
                return true;
            case Error { Code: ErrorCodes.UnknownMsgType } error when !_keyRequests.IsEmpty || Volatile.Read(ref _publish) is not null || Volatile.Read(ref _lookup) is not null:
                // A server from before issue #5 or #6 does not know KEYS_GET/KEYS_PUT/LOOKUP_REQUEST: fail what waits instead of timing out.
                FailPendingRequests(new ParleyClientException(ClientFailure.Refused, $"The server does not support this request ({error.Text})."));
                return true;
            default:
                return false;
        }
    }

    /// <summary>Fails every request still waiting: the link ended, or the server cannot answer this kind.</summary>
    private void FailPendingRequests(ParleyClientException failure)
    {
        foreach (var request in _keyRequests.Values)
        {
            request.TrySetException(failure);
        }

        _keyRequests.Clear();
        Interlocked.Exchange(ref _publish, null)?.TrySetException(failure);
        Interlocked.Exchange(ref _lookup, null)?.TrySetException(failure);
    }
}
