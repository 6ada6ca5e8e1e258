using Amazon.Runtime.Credentials;

namespace RollingUpgrade.LoadBalancers.AwsElb;

/// <summary>
/// Credentials from AWSSDK.Core's default chain (environment, web identity, profiles incl. SSO,
/// container, instance metadata), asked for on every request: refreshing credentials (roles,
/// SSO, instance profiles) renew themselves inside the SDK.
/// </summary>
public static class AwsCredentialChain
{
    public static async Task<AwsCredentials> ResolveAsync(CancellationToken cancellationToken)
    {
        Amazon.Runtime.AWSCredentials identity;
        try
        {
            identity = await new DefaultAWSCredentialsIdentityResolver()
                .ResolveIdentityAsync(clientConfig: null, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Amazon.Runtime.AmazonClientException e)
        {
            throw new AwsCredentialsException(
                $"no AWS credentials found ({FirstSentence(e.Message)}); set AWS_PROFILE, "
                    + $"AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where a role is attached",
                e
            );
        }

        var immutable = await identity.GetCredentialsAsync().ConfigureAwait(false);
        return new AwsCredentials(
            immutable.AccessKey,
            immutable.SecretKey,
            immutable.UseToken ? immutable.Token : null
        );
    }

    /// <summary>The plan's region, else AWS_REGION / AWS_DEFAULT_REGION; null when none is set.</summary>
    public static string? Region(string? fromPlan) =>
        fromPlan
        ?? NonEmpty(Environment.GetEnvironmentVariable("AWS_REGION"))
        ?? NonEmpty(Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION"));

    /// <summary>
    /// The plan's endpoint, else AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 / AWS_ENDPOINT_URL, else the regional
    /// endpoint.
    /// </summary>
    public static Uri Endpoint(string? fromPlan, string region)
    {
        var text =
            fromPlan
            ?? NonEmpty(Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2"))
            ?? NonEmpty(Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL"))
            ?? $"https://elasticloadbalancing.{region}.amazonaws.com/";
        return new Uri(text.EndsWith('/') ? text : text + "/");
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string FirstSentence(string message)
    {
        var dot = message.IndexOf(". ", StringComparison.Ordinal);
        return dot > 0 ? message[..dot] : message;
    }
}

/// <summary>The credential chain found nothing usable; the message says what to set.</summary>
internal sealed class AwsCredentialsException(string message, Exception inner) : Exception(message, inner);
