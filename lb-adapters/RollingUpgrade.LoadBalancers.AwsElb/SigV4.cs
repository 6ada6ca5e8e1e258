using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace RollingUpgrade.LoadBalancers.AwsElb;

/// <summary>Credentials for one request; the session token is sent (and signed) when present.</summary>
public sealed record AwsCredentials(string AccessKey, string SecretKey, string? SessionToken)
{
    /// <summary>Never shows the secret or the token.</summary>
    public override string ToString() =>
        $"AwsCredentials {{ AccessKey = {AccessKey}, SecretKey = ***, SessionToken = "
        + $"{(SessionToken is null ? "none" : "***")} }}";
}

/// <summary>
/// AWS Signature Version 4, written from the published specification and checked against AWS's
/// SigV4 test-suite vectors: canonical request, string to sign, signing key, Authorization header.
/// </summary>
internal static partial class SigV4
{
    public const string Algorithm = "AWS4-HMAC-SHA256";

    [GeneratedRegex(" +")]
    private static partial Regex Spaces();

    /// <summary>
    /// The headers to sign: lower-case names, sorted; repeated names joined with commas; values trimmed, inner runs of
    /// spaces collapsed.
    /// </summary>
    public static (string Canonical, string Signed) CanonicalHeaders(IEnumerable<KeyValuePair<string, string>> headers)
    {
        var grouped = headers
            .GroupBy(h => h.Key.ToLowerInvariant(), StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (Name: g.Key, Value: string.Join(',', g.Select(h => Spaces().Replace(h.Value.Trim(), " ")))))
            .ToList();
        return (
            string.Concat(grouped.Select(h => $"{h.Name}:{h.Value}\n")),
            string.Join(';', grouped.Select(h => h.Name))
        );
    }

    /// <summary>Query parameters URI-encoded (RFC 3986 unreserved kept) and sorted by name, then value.</summary>
    public static string CanonicalQuery(IEnumerable<KeyValuePair<string, string>> query) =>
        string.Join(
            '&',
            query
                .Select(p => (Name: Encode(p.Key), Value: Encode(p.Value)))
                .OrderBy(p => p.Name, StringComparer.Ordinal)
                .ThenBy(p => p.Value, StringComparer.Ordinal)
                .Select(p => $"{p.Name}={p.Value}")
        );

    public static string CanonicalRequest(
        string method,
        string path,
        string canonicalQuery,
        string canonicalHeaders,
        string signedHeaders,
        string payloadHash
    ) => $"{method}\n{path}\n{canonicalQuery}\n{canonicalHeaders}\n{signedHeaders}\n{payloadHash}";

    public static string Scope(DateTimeOffset at, string region, string service) =>
        $"{at.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture)}/{region}/{service}/aws4_request";

    public static string AmzDate(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    public static string StringToSign(DateTimeOffset at, string region, string service, string canonicalRequest) =>
        $"{Algorithm}\n{AmzDate(at)}\n{Scope(at, region, service)}\n"
        + $"{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)))}";

    public static string Signature(
        string secretKey,
        DateTimeOffset at,
        string region,
        string service,
        string stringToSign
    )
    {
        ArgumentNullException.ThrowIfNull(secretKey);
        var key = HMACSHA256.HashData(
            Encoding.UTF8.GetBytes("AWS4" + secretKey),
            Encoding.UTF8.GetBytes(at.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture))
        );
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(region));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(service));
        key = HMACSHA256.HashData(key, "aws4_request"u8.ToArray());
        return Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
    }

    public static string Authorization(
        AwsCredentials credentials,
        DateTimeOffset at,
        string region,
        string service,
        string signedHeaders,
        string signature
    )
    {
        ArgumentNullException.ThrowIfNull(credentials);
        return $"{Algorithm} Credential={credentials.AccessKey}/{Scope(at, region, service)}, SignedHeaders="
            + $"{signedHeaders}, Signature={signature}";
    }

    /// <summary>
    /// Signs a request: adds x-amz-date (and x-amz-security-token with session credentials) to
    /// <paramref name="headers"/> and returns the Authorization header value.
    /// </summary>
    public static string Sign(
        AwsCredentials credentials,
        DateTimeOffset at,
        string region,
        string service,
        string method,
        string path,
        IEnumerable<KeyValuePair<string, string>> query,
        IDictionary<string, string> headers,
        byte[] body
    )
    {
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentNullException.ThrowIfNull(headers);
        headers["X-Amz-Date"] = AmzDate(at);
        if (credentials.SessionToken is { Length: > 0 } token)
        {
            headers["X-Amz-Security-Token"] = token;
        }

        var (canonical, signed) = CanonicalHeaders(headers);
        var request = CanonicalRequest(
            method,
            path,
            CanonicalQuery(query),
            canonical,
            signed,
            Hex(SHA256.HashData(body))
        );
        var signature = Signature(
            credentials.SecretKey,
            at,
            region,
            service,
            StringToSign(at, region, service, request)
        );
        return Authorization(credentials, at, region, service, signed, signature);
    }

    public static string Encode(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var builder = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~')
            {
                builder.Append(c);
            }
            else
            {
                builder.Append(CultureInfo.InvariantCulture, $"%{b:X2}");
            }
        }

        return builder.ToString();
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
