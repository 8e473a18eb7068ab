import { describe, expect, it } from "vitest";
import { eventRules } from "../functions/events/rules.js";
import { compilePattern, InvalidEventPatternError, matches } from "./pattern.js";

/**
 * Cases taken from the EventBridge user guide: "Creating Amazon EventBridge event patterns", "Content filtering in
 * Amazon EventBridge event patterns", "Arrays in Amazon EventBridge event patterns" and "Matching null values and
 * empty strings". Each row is (what, pattern, event, expected); the events wrap the documented fields in the
 * envelope EventBridge delivers.
 */
type Row = [what: string, pattern: Record<string, unknown>, event: Record<string, unknown>, expected: boolean];

const envelope = (fields: Record<string, unknown>) => ({
  version: "0",
  id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "EC2 Instance State-change Notification",
  source: "aws.ec2",
  account: "111122223333",
  time: "2017-12-22T18:43:48Z",
  region: "us-west-1",
  resources: ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
  detail: { "instance-id": "i-1234567890abcdef0", state: "terminated" },
  ...fields,
});
const detail = (d: Record<string, unknown>) => envelope({ detail: d });

const ec2Termination = {
  source: ["aws.ec2"],
  "detail-type": ["EC2 Instance State-change Notification"],
  detail: { state: ["terminated"] },
};
const numericPattern = {
  detail: {
    "c-count": [{ numeric: [">", 0, "<=", 5] }],
    "d-count": [{ numeric: ["<", 10] }],
    "x-limit": [{ numeric: ["=", 3.018e2] }],
  },
};
const complex = {
  time: [{ prefix: "2017-10-02" }],
  detail: {
    state: [{ "anything-but": "initializing" }],
    "c-count": [{ numeric: [">", 0, "<=", 5] }],
    "d-count": [{ numeric: ["<", 10] }],
    "x-limit": [{ "anything-but": [100, 200, 300] }],
  },
};
const orNumeric = {
  detail: {
    $or: [
      { "c-count": [{ numeric: [">", 0, "<=", 5] }] },
      { "d-count": [{ numeric: ["<", 10] }] },
      { "x-limit": [{ numeric: ["=", 3.018e2] }] },
    ],
  },
};
const orTopLevel = {
  source: ["aws.cloudwatch"],
  $or: [{ metricName: ["CPUUtilization", "ReadLatency"] }, { namespace: ["AWS/EC2", "AWS/ES"] }],
};
const resourcesPattern = {
  resources: [
    "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
    "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
    "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f",
  ],
};

const rows: Row[] = [
  // Exact values, nested objects, every field ANDed, values in an array ORed.
  ["exact: EC2 termination matches", ec2Termination, envelope({}), true],
  ["exact: other state does not", ec2Termination, detail({ state: "running" }), false],
  ["exact: a missing field never matches", ec2Termination, envelope({ "detail-type": undefined }), false],
  ["exact: values are case sensitive", { source: ["AWS.EC2"] }, envelope({}), false],
  ["exact: any value of the array", { detail: { state: ["pending", "terminated"] } }, envelope({}), true],
  ["exact: number", { detail: { Price: [100] } }, detail({ Price: 100 }), true],
  ["exact: numbers compare as numbers", { detail: { Price: [100] } }, detail({ Price: 1.0e2 }), true],
  ["exact: a string is not a number", { detail: { Price: [100] } }, detail({ Price: "100" }), false],
  ["exact: boolean", { detail: { enabled: [true] } }, detail({ enabled: true }), true],
  ["exact: boolean false is not true", { detail: { enabled: [true] } }, detail({ enabled: false }), false],
  ["exact: a leaf matcher does not match an object", { detail: [{ exists: true }] }, envelope({}), false],
  ["nested: deep path", { detail: { a: { b: { c: ["x"] } } } }, detail({ a: { b: { c: "x" } } }), true],
  ["nested: deep path, other value", { detail: { a: { b: { c: ["x"] } } } }, detail({ a: { b: { c: "y" } } }), false],
  ["nested: intermediate node missing", { detail: { a: { b: ["x"] } } }, detail({}), false],
  // Null values and empty strings are not interchangeable.
  [
    "null: matches null",
    { detail: { responseElements: [null] } },
    detail({ eventVersion: "", responseElements: null }),
    true,
  ],
  [
    "empty string: matches empty string",
    { detail: { eventVersion: [""] } },
    detail({ eventVersion: "", responseElements: null }),
    true,
  ],
  ["null: does not match an empty string", { detail: { eventVersion: [null] } }, detail({ eventVersion: "" }), false],
  [
    "empty string: does not match null",
    { detail: { responseElements: [""] } },
    detail({ responseElements: null }),
    false,
  ],
  ["null: does not match a missing field", { detail: { responseElements: [null] } }, detail({}), false],
  ["null: does not match an empty array", { resources: [null] }, envelope({ resources: [] }), false],
  // Arrays: match when the intersection of pattern array and event array is non-empty.
  [
    "arrays: intersection is non-empty",
    resourcesPattern,
    envelope({
      resources: [
        "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate",
        "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
      ],
    }),
    true,
  ],
  [
    "arrays: intersection is empty",
    resourcesPattern,
    envelope({ resources: ["arn:aws:ec2:us-east-1:999999999999:instance/i-b188560f"] }),
    false,
  ],
  [
    "arrays: array of objects, one element matches",
    { detail: { items: { sku: ["b"] } } },
    detail({ items: [{ sku: "a" }, { sku: "b" }] }),
    true,
  ],
  [
    "arrays: fields of one pattern object must match in the same element",
    { detail: { items: { sku: ["a"], qty: [2] } } },
    detail({
      items: [
        { sku: "a", qty: 1 },
        { sku: "b", qty: 2 },
      ],
    }),
    false,
  ],
  // Prefix.
  [
    "prefix: time starts with 2017-10-02",
    { time: [{ prefix: "2017-10-02" }] },
    envelope({ time: "2017-10-02T18:43:48Z" }),
    true,
  ],
  ["prefix: other day", { time: [{ prefix: "2017-10-02" }] }, envelope({ time: "2017-10-03T18:43:48Z" }), false],
  [
    "prefix: European regions",
    { source: ["aws.autoscaling"], region: [{ prefix: "eu-" }] },
    envelope({ source: "aws.autoscaling", region: "eu-west-1" }),
    true,
  ],
  [
    "prefix: US region is not European",
    { source: ["aws.autoscaling"], region: [{ prefix: "eu-" }] },
    envelope({ source: "aws.autoscaling", region: "us-east-1" }),
    false,
  ],
  ["prefix: only strings", { detail: { code: [{ prefix: "1" }] } }, detail({ code: 12 }), false],
  [
    "prefix ignoring case: EventBridge",
    { detail: { service: [{ prefix: { "equals-ignore-case": "EventB" } }] } },
    detail({ service: "EVENTBRIDGE" }),
    true,
  ],
  [
    "prefix ignoring case: eventbridge",
    { detail: { service: [{ prefix: { "equals-ignore-case": "EventB" } }] } },
    detail({ service: "eventbridge" }),
    true,
  ],
  [
    "prefix ignoring case: other service",
    { detail: { service: [{ prefix: { "equals-ignore-case": "EventB" } }] } },
    detail({ service: "Lambda" }),
    false,
  ],
  // Suffix.
  ["suffix: .png file", { detail: { FileName: [{ suffix: ".png" }] } }, detail({ FileName: "photo.png" }), true],
  ["suffix: .jpg file", { detail: { FileName: [{ suffix: ".png" }] } }, detail({ FileName: "photo.jpg" }), false],
  ["suffix: case sensitive", { detail: { FileName: [{ suffix: ".png" }] } }, detail({ FileName: "photo.PNG" }), false],
  [
    "suffix ignoring case: .PNG",
    { detail: { FileName: [{ suffix: { "equals-ignore-case": ".png" } }] } },
    detail({ FileName: "photo.PNG" }),
    true,
  ],
  [
    "suffix ignoring case: .gif",
    { detail: { FileName: [{ suffix: { "equals-ignore-case": ".png" } }] } },
    detail({ FileName: "photo.GIF" }),
    false,
  ],
  // Equals ignoring case.
  [
    "equals-ignore-case: ALICE",
    { detail: { Name: [{ "equals-ignore-case": "alice" }] } },
    detail({ Name: "ALICE" }),
    true,
  ],
  [
    "equals-ignore-case: Alicia",
    { detail: { Name: [{ "equals-ignore-case": "alice" }] } },
    detail({ Name: "Alicia" }),
    false,
  ],
  // Anything-but.
  [
    "anything-but string: running",
    { detail: { state: [{ "anything-but": "initializing" }] } },
    detail({ state: "running" }),
    true,
  ],
  [
    "anything-but string: initializing",
    { detail: { state: [{ "anything-but": "initializing" }] } },
    detail({ state: "initializing" }),
    false,
  ],
  [
    "anything-but string: null passes",
    { detail: { state: [{ "anything-but": "initializing" }] } },
    detail({ state: null }),
    true,
  ],
  [
    "anything-but string: a missing field does not",
    { detail: { state: [{ "anything-but": "initializing" }] } },
    detail({}),
    false,
  ],
  ["anything-but number: 124", { detail: { "x-limit": [{ "anything-but": 123 }] } }, detail({ "x-limit": 124 }), true],
  ["anything-but number: 123", { detail: { "x-limit": [{ "anything-but": 123 }] } }, detail({ "x-limit": 123 }), false],
  [
    "anything-but string list: running",
    { detail: { state: [{ "anything-but": ["stopped", "overloaded"] }] } },
    detail({ state: "running" }),
    true,
  ],
  [
    "anything-but string list: stopped",
    { detail: { state: [{ "anything-but": ["stopped", "overloaded"] }] } },
    detail({ state: "stopped" }),
    false,
  ],
  [
    "anything-but number list: 150",
    { detail: { "x-limit": [{ "anything-but": [100, 200, 300] }] } },
    detail({ "x-limit": 150 }),
    true,
  ],
  [
    "anything-but number list: 200",
    { detail: { "x-limit": [{ "anything-but": [100, 200, 300] }] } },
    detail({ "x-limit": 200 }),
    false,
  ],
  [
    "anything-but: not CloudTrail",
    { "detail-type": [{ "anything-but": "AWS API Call via CloudTrail" }] },
    envelope({}),
    true,
  ],
  [
    "anything-but: CloudTrail",
    { "detail-type": [{ "anything-but": "AWS API Call via CloudTrail" }] },
    envelope({ "detail-type": "AWS API Call via CloudTrail" }),
    false,
  ],
  ["anything-but source list: aws.ec2", { source: [{ "anything-but": ["aws.ec2", "aws.s3"] }] }, envelope({}), false],
  [
    "anything-but source list: own source",
    { source: [{ "anything-but": ["aws.ec2", "aws.s3"] }] },
    envelope({ source: "orderline.orders" }),
    true,
  ],
  [
    "anything-but prefix: running",
    { detail: { state: [{ "anything-but": { prefix: "init" } }] } },
    detail({ state: "running" }),
    true,
  ],
  [
    "anything-but prefix: initializing",
    { detail: { state: [{ "anything-but": { prefix: "init" } }] } },
    detail({ state: "initializing" }),
    false,
  ],
  [
    "anything-but prefix: a number passes",
    { detail: { state: [{ "anything-but": { prefix: "init" } }] } },
    detail({ state: 12 }),
    true,
  ],
  [
    "anything-but prefix: own events, not aws.*",
    { source: [{ "anything-but": { prefix: "aws." } }] },
    envelope({ source: "payments" }),
    true,
  ],
  ["anything-but prefix: aws.* events", { source: [{ "anything-but": { prefix: "aws." } }] }, envelope({}), false],
  [
    "anything-but suffix: .jpg",
    { detail: { FileName: [{ "anything-but": { suffix: ".png" } }] } },
    detail({ FileName: "a.jpg" }),
    true,
  ],
  [
    "anything-but suffix: .png",
    { detail: { FileName: [{ "anything-but": { suffix: ".png" } }] } },
    detail({ FileName: "a.png" }),
    false,
  ],
  [
    "anything-but ignoring case: INITIALIZING",
    { detail: { state: [{ "anything-but": { "equals-ignore-case": "initializing" } }] } },
    detail({ state: "INITIALIZING" }),
    false,
  ],
  [
    "anything-but ignoring case: running",
    { detail: { state: [{ "anything-but": { "equals-ignore-case": "initializing" } }] } },
    detail({ state: "running" }),
    true,
  ],
  [
    "anything-but wildcard: outside /lib/",
    { detail: { FilePath: [{ "anything-but": { wildcard: "*/lib/*" } }] } },
    detail({ FilePath: "/usr/bin/node" }),
    true,
  ],
  [
    "anything-but wildcard: inside /lib/",
    { detail: { FilePath: [{ "anything-but": { wildcard: "*/lib/*" } }] } },
    detail({ FilePath: "/usr/lib/node" }),
    false,
  ],
  [
    "anything-but: an event array matches when any element passes",
    { detail: { state: [{ "anything-but": "initializing" }] } },
    detail({ state: ["initializing", "running"] }),
    true,
  ],
  // Numeric.
  [
    "numeric: all three fields in range",
    numericPattern,
    detail({ "c-count": 5, "d-count": 9, "x-limit": 301.8 }),
    true,
  ],
  ["numeric: c-count > 0 excludes 0", numericPattern, detail({ "c-count": 0, "d-count": 9, "x-limit": 301.8 }), false],
  ["numeric: c-count <= 5 excludes 6", numericPattern, detail({ "c-count": 6, "d-count": 9, "x-limit": 301.8 }), false],
  [
    "numeric: d-count < 10 excludes 10",
    numericPattern,
    detail({ "c-count": 1, "d-count": 10, "x-limit": 301.8 }),
    false,
  ],
  [
    "numeric: x-limit = 3.018e2 excludes 301",
    numericPattern,
    detail({ "c-count": 1, "d-count": 9, "x-limit": 301 }),
    false,
  ],
  ["numeric: only JSON numbers", numericPattern, detail({ "c-count": "3", "d-count": 9, "x-limit": 301.8 }), false],
  [
    "numeric: >= lower bound is inclusive",
    { detail: { n: [{ numeric: [">=", 10, "<", 20] }] } },
    detail({ n: 10 }),
    true,
  ],
  [
    "numeric: < upper bound is exclusive",
    { detail: { n: [{ numeric: [">=", 10, "<", 20] }] } },
    detail({ n: 20 }),
    false,
  ],
  // Exists.
  ["exists true: detail.state present", { detail: { state: [{ exists: true }] } }, envelope({}), true],
  [
    "exists true: detail.state absent",
    { detail: { state: [{ exists: true }] } },
    detail({ "c-count": { c1: 100 } }),
    false,
  ],
  ["exists true: null is a value", { detail: { state: [{ exists: true }] } }, detail({ state: null }), true],
  [
    "exists false: c-count absent",
    { detail: { "c-count": [{ exists: false }] } },
    detail({ state: ["initializing", "running"] }),
    true,
  ],
  [
    "exists false: c-count is not a leaf",
    { detail: { "c-count": [{ exists: false }] } },
    detail({ state: ["initializing", "running"], "c-count": { c1: 100 } }),
    true,
  ],
  ["exists false: c-count present", { detail: { "c-count": [{ exists: false }] } }, detail({ "c-count": 5 }), false],
  [
    "exists false: deep leaf present",
    { detail: { level1: { level2: { level3: { level4: [{ exists: false }] } } } } },
    detail({ level1: { level2: { level3: { level4: "l4 value" } } } }),
    false,
  ],
  [
    "exists false: whole detail missing",
    { detail: { state: [{ exists: false }] } },
    envelope({ detail: undefined }),
    true,
  ],
  // $or.
  ["$or: d-count < 10 alone is enough", orNumeric, detail({ "c-count": 0, "d-count": 0, "x-limit": 9.018e2 }), true],
  ["$or: no branch matches", orNumeric, detail({ "c-count": 0, "d-count": 10, "x-limit": 9.018e2 }), false],
  [
    "$or top level: metricName branch",
    orTopLevel,
    envelope({ source: "aws.cloudwatch", metricName: "CPUUtilization" }),
    true,
  ],
  ["$or top level: namespace branch", orTopLevel, envelope({ source: "aws.cloudwatch", namespace: "AWS/ES" }), true],
  [
    "$or top level: and the other keys still apply",
    orTopLevel,
    envelope({ source: "aws.ec2", namespace: "AWS/ES" }),
    false,
  ],
  [
    "$or top level: neither branch",
    orTopLevel,
    envelope({ source: "aws.cloudwatch", metricName: "DiskReadOps", namespace: "AWS/RDS" }),
    false,
  ],
  [
    "$or: Location is New York or Day is Monday",
    { detail: { $or: [{ Location: ["New York"] }, { Day: ["Monday"] }] } },
    detail({ Location: "Boston", Day: "Monday" }),
    true,
  ],
  [
    "$or: Boston on Tuesday",
    { detail: { $or: [{ Location: ["New York"] }, { Day: ["Monday"] }] } },
    detail({ Location: "Boston", Day: "Tuesday" }),
    false,
  ],
  // Wildcard and IP address.
  [
    "wildcard: png in dir",
    { detail: { FileName: [{ wildcard: "dir/*.png" }] } },
    detail({ FileName: "dir/photo.png" }),
    true,
  ],
  [
    "wildcard: png elsewhere",
    { detail: { FileName: [{ wildcard: "dir/*.png" }] } },
    detail({ FileName: "other/photo.png" }),
    false,
  ],
  [
    "cidr: inside 10.0.0.0/24",
    { detail: { sourceIPAddress: [{ cidr: "10.0.0.0/24" }] } },
    detail({ sourceIPAddress: "10.0.0.255" }),
    true,
  ],
  [
    "cidr: outside 10.0.0.0/24",
    { detail: { sourceIPAddress: [{ cidr: "10.0.0.0/24" }] } },
    detail({ sourceIPAddress: "10.0.1.1" }),
    false,
  ],
  // Complex example with multiple matching.
  [
    "complex: everything holds",
    complex,
    envelope({
      time: "2017-10-02T18:43:48Z",
      detail: { state: "running", "c-count": 3, "d-count": 2, "x-limit": 150 },
    }),
    true,
  ],
  [
    "complex: x-limit excluded",
    complex,
    envelope({
      time: "2017-10-02T18:43:48Z",
      detail: { state: "running", "c-count": 3, "d-count": 2, "x-limit": 200 },
    }),
    false,
  ],
  [
    "complex: wrong day",
    complex,
    envelope({
      time: "2017-10-03T18:43:48Z",
      detail: { state: "running", "c-count": 3, "d-count": 2, "x-limit": 150 },
    }),
    false,
  ],
];

describe("matches (EventBridge documentation examples)", () => {
  it.each(rows)("%s", (_what, pattern, event, expected) => {
    expect(matches(pattern, JSON.parse(JSON.stringify(event)))).toBe(expected);
  });

  it("covers every operator with a matching and a non-matching row", () => {
    const operators = [
      "prefix",
      "suffix",
      "anything-but",
      "exists",
      "numeric",
      "equals-ignore-case",
      "$or",
      "wildcard",
      "cidr",
    ];
    for (const op of operators) {
      const used = rows.filter(([, pattern]) => JSON.stringify(pattern).includes(`"${op}"`));
      expect(
        used.some((r) => r[3]),
        `${op} matching`,
      ).toBe(true);
      expect(
        used.some((r) => !r[3]),
        `${op} non-matching`,
      ).toBe(true);
    }
  });
});

describe("invalid patterns are rejected when compiled", () => {
  it.each([
    ["not an object", []],
    ["empty matcher array", { source: [] }],
    ["scalar instead of array", { source: "payments" }],
    ["unknown operator", { source: [{ startsWith: "pay" }] }],
    ["two operators in one object", { source: [{ prefix: "a", suffix: "b" }] }],
    ["numeric with two lower bounds", { detail: { n: [{ numeric: [">", 0, ">", 0] }] } }],
    ["numeric with a string bound", { detail: { n: [{ numeric: [">", "0"] }] } }],
    ["anything-but null", { detail: { state: [{ "anything-but": null }] } }],
    ["anything-but mixed list", { detail: { state: [{ "anything-but": ["a", 1] }] } }],
    ["exists not boolean", { detail: { state: [{ exists: "yes" }] } }],
    ["$or with one branch", { $or: [{ source: ["a"] }] }],
    ["bad cidr", { detail: { ip: [{ cidr: "10.0.0.0/33" }] } }],
  ])("%s", (_what, pattern) => {
    expect(() => compilePattern(pattern)).toThrow(InvalidEventPatternError);
  });
});

describe("the project's rules", () => {
  it.each(eventRules.map((r) => [r.name, r] as const))("%s compiles with the local matcher", (_name, rule) => {
    expect(() => compilePattern(rule.pattern)).not.toThrow();
  });

  it("routes a payment event to PaymentEvents only", () => {
    const event = envelope({
      source: "payments",
      "detail-type": "Payment Succeeded",
      detail: { orderId: "o-1", paymentId: "p-1" },
    });
    expect(eventRules.filter((r) => matches(r.pattern, event)).map((r) => r.name)).toEqual(["PaymentEvents"]);
  });

  it("routes a shipment event to ShipmentEvents only", () => {
    const event = envelope({
      source: "shipments",
      "detail-type": "Shipment Dispatched",
      detail: { orderId: "o-1", shipmentId: "s-1" },
    });
    expect(eventRules.filter((r) => matches(r.pattern, event)).map((r) => r.name)).toEqual(["ShipmentEvents"]);
  });
});
