// Package campaign links sessions into campaigns with explainable reasons.
package campaign
